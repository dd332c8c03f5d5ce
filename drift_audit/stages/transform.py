"""transformation_audit: why offline and online differ (docs/transformation-audit.md).

Value causes (timezone, unit, window/aggregation, null handling) come from core.causes on the pairs of
drift_deltas and on shape summaries of the offline partition and each online source; then late data,
duplicates and last-write-wins, dependency versions of the two paths, and the Feast definitions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pyspark.sql import functions as F

from drift_audit.adapters import feast_repo
from drift_audit.config import Config
from drift_audit.core import causes, definitions, dependencies
from drift_audit.core.contract import Contract
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.summaries import SkewSummary
from drift_audit.core.tiers import thresholds
from drift_audit.spark import arrival, shapes
from drift_audit.stages.samples import PARTITION, Sample
from drift_audit.stages.window import PartitionWindow

LATE_GRACE = timedelta(hours=2)  # the materialization cutoff: partition end + this


def _skews(drift_out: dict[str, Any]) -> dict[tuple[str, str], SkewSummary]:
    out = {}
    for key, d in drift_out["skew"].items():
        f, s = key.split("|")
        fields: dict[str, Any] = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
                  for k, v in d.items()}
        out[(f, s)] = SkewSummary(**fields)
    return out


def run(cfg: Config, contract: Contract, window: PartitionWindow, offline: Sample, online: Sample,
        drift_out: dict[str, Any]) -> dict[str, Any]:
    limits = thresholds(contract.risk_tier, cfg.audit.tiers)
    off = offline.df.where(F.col("_window") == PARTITION)
    keys, ts = list(contract.entity_keys), contract.event_timestamp
    aligned = [f for f in online.meta.get("aligned_features", []) if f in off.columns and f in online.df.columns]
    feats = [contract.feature(f) for f in aligned]
    periods = {f.name: p for f in feats if (p := causes.period_of(f))}
    views = definitions.report(contract, feast_repo.load(cfg.path(cfg.feast.repo_path) / cfg.feast.definitions_module))
    skews = _skews(drift_out)
    need = causes.needs_shapes(drift_out["features"], skews)
    shaped = shapes.shapes(off, online.df, [f for f in feats if f.name in need], periods)
    found = causes.detect(contract, drift_out["features"], skews, shaped, limits["skew_mismatch"], views["declared"],
                          shapes.time_of_day(off, online.df, keys, ts))
    cutoff = window.end + LATE_GRACE
    late = arrival.late_arrivals(off, online.df, ts, contract.created_timestamp, cutoff)
    found += _late_findings(contract, late, limits["late_data_share"], cutoff.isoformat())
    kinds = {f.name: f.kind for f in feats if not f.is_pii} | {f.name: "categorical" for f in feats if f.is_pii}
    dupes = arrival.duplicates(off, online.df, keys, ts, contract.created_timestamp, kinds)
    found += _duplicate_findings(contract, dupes)
    deps = _dependencies(cfg, contract, drift_out, found)
    found += deps.pop("findings")
    found += definitions.findings(contract, views)
    return {"feature_group": contract.group, "late_data": late, "duplicates": dupes, "dependencies": deps,
            "feature_views": views, "findings": [f.to_dict() for f in found]}


def _late_findings(contract: Contract, late: dict[str, Any], limit: float, cutoff: str) -> list[Finding]:
    off = late.get("offline")
    if not off or off["late_share"] <= limit:
        return []
    online = {k: v for k, v in late.items() if k != "offline"}
    return [Finding(contract.group, "*", "late_arriving_data", severity_for(contract.risk_tier, False),
                    {**off, "threshold": limit, "materialization_cutoff": cutoff, "online": online},
                    "transformation_audit", ("offline", *sorted(online)),
                    confidence=round(min(1.0, off["late_share"] / (2 * limit)), 4))]


def _duplicate_findings(contract: Contract, dupes: dict[str, dict[str, Any]]) -> list[Finding]:
    """One finding for the group: every side with duplicated keys or whose values came from a copy other
    than the newest created (last write won); grave when copies disagree."""
    def overwritten(d: dict[str, Any]) -> int:
        return int((d.get("last_write_wins") or {}).get("served_other_copy", 0))

    bad = {side: d for side, d in sorted(dupes.items()) if d["duplicate_keys"] or overwritten(d)}
    if not bad:
        return []
    grave = any(d["conflicting_keys"] or overwritten(d) for d in bad.values())
    evidence = {"duplicate_keys": sum(d["duplicate_keys"] for d in bad.values()),
                "conflicting_keys": sum(d["conflicting_keys"] for d in bad.values()),
                "served_other_copy": sum(overwritten(d) for d in bad.values()), "by_side": bad}
    return [Finding(contract.group, "*", "duplicate_rows", severity_for(contract.risk_tier, grave), evidence,
                    "transformation_audit", tuple(bad))]


def _dependencies(cfg: Config, contract: Contract, drift_out: dict[str, Any], found: list[Finding]) -> dict[str, Any]:
    gs = cfg.group(contract.group)
    if "offline" not in gs.dependencies or "online" not in gs.dependencies:
        return {"note": "no dependency files configured for this group", "findings": []}
    pins = {side: dependencies.read_lock(cfg.path(gs.dependencies[side])) for side in ("offline", "online")}
    diffs = dependencies.compare(pins["offline"], pins["online"])
    modules = {side: dependencies.module_info(cfg.path(path)) for side, path in sorted(gs.transformations.items())}
    troubled = sorted({r["name"] for r in drift_out["features"] if r["drifted"]}
                      | {f.feature for f in found if f.feature in contract.feature_names})
    touches = dependencies.touching(diffs, modules.values(), troubled)
    for d in diffs:
        d["drifted_features_using_it"] = touches[d["library"]]
    online_imports = set(modules["online"].imports) if "online" in modules else set()
    flagged = [d["library"] for d in diffs if d["drifted_features_using_it"]]
    out: dict[str, Any] = {"offline": gs.dependencies["offline"], "online": gs.dependencies["online"],
                           "differences": diffs, "modules": {side: {"path": gs.transformations[side],
                                                                   "functions": list(m.functions),
                                                                   "imports": list(m.imports)}
                                                            for side, m in modules.items()}, "findings": []}
    if diffs:
        out["findings"].append(Finding(
            contract.group, "*", "dependency_version_mismatch",
            severity_for(contract.risk_tier, True) if flagged else "info",
            {"differences": diffs, "libraries_touching_drifted_features": flagged,
             "libraries_used_by_online_code": sorted(d["library"] for d in diffs if d["library"] in online_imports),
             "drifted_features_in_code": sorted({f for d in diffs for f in d["drifted_features_using_it"]})},
            "transformation_audit", (), confidence=0.5 if flagged else 0.2))
    return out
