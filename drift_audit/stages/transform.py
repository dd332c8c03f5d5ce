"""transformation_audit: why offline and online differ (docs/transformation-audit.md)."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from drift_audit.adapters import feast_store
from drift_audit.config import Config
from drift_audit.core import causes, dependencies
from drift_audit.core.contract import Contract
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.summaries import SkewSummary
from drift_audit.core.tiers import thresholds
from drift_audit.stages.samples import PARTITION, Sample
from drift_audit.stages.window import PartitionWindow

LATE_GRACE_SECONDS = 2 * 3600


def _skews(drift_out: dict[str, Any]) -> dict[tuple[str, str], SkewSummary]:
    out = {}
    for key, d in drift_out["skew"].items():
        f, s = key.split("|")
        fields: dict[str, Any] = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
                  for k, v in d.items()}
        out[(f, s)] = SkewSummary(**fields)
    return out


def run(cfg: Config, contract: Contract, window: PartitionWindow, offline: Sample, online: Sample,
        drift_out: dict[str, Any], store: Any = None) -> dict[str, Any]:
    limits = thresholds(contract.risk_tier, cfg.audit.tiers)
    exact = {tuple(k.split("|")): v for k, v in drift_out["exact"].items()}
    findings = causes.detect(contract, drift_out["features"], _skews(drift_out), exact, limits["skew_mismatch"])
    late = _late_data(contract, window, offline)
    if late and late["late_share"] > limits["out_of_range"]:
        findings.append(Finding(contract.group, "*", "late_arriving_data", severity_for(contract.risk_tier, False),
                                late, "transformation_audit", ("offline",)))
    dupes = _duplicates(contract, offline, online)
    for side, d in dupes.items():
        if d["duplicate_keys"]:
            findings.append(Finding(contract.group, "*", "duplicate_rows", severity_for(contract.risk_tier, False),
                                    {"side": side, **d}, "transformation_audit", (side,)))
    deps = _dependencies(cfg, contract, drift_out, findings)
    if deps.get("differences"):
        findings.append(deps.pop("finding"))
    deps.pop("finding", None)
    views = _feature_views(cfg, contract, store)
    for problem in views.get("problems", []):
        findings.append(Finding(contract.group, problem.get("feature", "*"), "feature_definition_mismatch",
                                severity_for(contract.risk_tier, False), problem, "transformation_audit", ()))
    return {"feature_group": contract.group, "late_data": late, "duplicates": dupes, "dependencies": deps,
            "feature_views": views, "findings": [f.to_dict() for f in findings]}


def _late_data(contract: Contract, window: PartitionWindow, offline: Sample) -> dict[str, Any] | None:
    created = contract.created_timestamp
    if not created or created not in offline.df.columns:
        return None
    df = offline.df.where(F.col("_window") == PARTITION)
    lag = F.unix_timestamp(created) - F.unix_timestamp(contract.event_timestamp)
    cutoff = F.lit(window.end.timestamp() + LATE_GRACE_SECONDS)
    row = df.agg(F.count(F.lit(1)).alias("rows"),
                 F.expr(f"percentile_approx(unix_timestamp({created}) - unix_timestamp({contract.event_timestamp}), "
                        "array(0.5, 0.95))").alias("q"), F.max(lag).alias("max_lag"),
                 F.sum(F.when(F.unix_timestamp(created) > cutoff, 1).otherwise(0)).alias("late")).first()
    rows = int(row["rows"]) if row else 0
    if not rows or row is None:
        return None
    q = row["q"] or [None, None]
    return {"rows": rows, "lag_p50_s": q[0], "lag_p95_s": q[1], "lag_max_s": row["max_lag"],
            "materialization_cutoff": f"partition end + {LATE_GRACE_SECONDS // 3600}h",
            "late_rows": int(row["late"]), "late_share": round(int(row["late"]) / rows, 6)}


def _dup_counts(df: DataFrame, keys: list[str], features: list[str]) -> dict[str, int]:
    fingerprint = F.xxhash64(*[F.col(f) for f in features]) if features else F.lit(0)
    grouped = df.groupBy(*keys).agg(F.count(F.lit(1)).alias("n"), F.countDistinct(fingerprint).alias("versions"))
    row = grouped.where(F.col("n") > 1).agg(
        F.count(F.lit(1)).alias("keys"), F.sum("n").alias("rows"),
        F.sum(F.when(F.col("versions") > 1, 1).otherwise(0)).alias("conflicting")).first()
    return {"duplicate_keys": int(row["keys"] or 0) if row else 0, "duplicate_rows": int(row["rows"] or 0) if row else 0,
            "conflicting_versions": int(row["conflicting"] or 0) if row else 0}


def _duplicates(contract: Contract, offline: Sample, online: Sample) -> dict[str, dict[str, int]]:
    keys = list(contract.entity_keys)
    feats = [f for f in contract.feature_names if f in offline.df.columns]
    out = {"offline": _dup_counts(offline.df.where(F.col("_window") == PARTITION), [*keys, contract.event_timestamp],
                                  feats)}
    on_feats = [f for f in contract.feature_names if f in online.df.columns]
    for source in sorted(online.meta["sources"]):
        df = online.df.where(F.col("_source") == source)
        out[source] = _dup_counts(df, [*keys, "_value_ts", "_request_ts"], on_feats)
    return out


def _dependencies(cfg: Config, contract: Contract, drift_out: dict[str, Any], causes_found: list[Finding]
                  ) -> dict[str, Any]:
    gs = cfg.group(contract.group)
    if "offline" not in gs.dependencies or "online" not in gs.dependencies:
        return {"note": "no dependency files configured for this group"}
    off = dependencies.parse_requirements(cfg.path(gs.dependencies["offline"]).read_text())
    on = dependencies.parse_requirements(cfg.path(gs.dependencies["online"]).read_text())
    diffs = dependencies.compare(off, on)
    out: dict[str, Any] = {"offline": gs.dependencies["offline"], "online": gs.dependencies["online"],
                           "differences": diffs}
    code = gs.transformations.get("online")
    troubled = {r["name"] for r in drift_out["features"] if r["drifted"]} | {
        f.feature for f in causes_found}
    touched: list[str] = []
    libs: list[str] = []
    if code:
        info = dependencies.module_info(cfg.path(code))
        libs = [d["library"] for d in diffs if d["library"] in info.imports]
        touched = sorted(f for f in troubled if f in info.functions)
        out["online_module"] = {"path": code, "imports": list(info.imports), "functions": list(info.functions)}
    if diffs:
        out["finding"] = Finding(
            contract.group, "*", "dependency_version_mismatch",
            severity_for(contract.risk_tier, True) if libs and touched else "info",
            {"differences": diffs, "libraries_used_by_online_code": libs, "drifted_features_in_online_code": touched},
            "transformation_audit", (), confidence=0.5 if libs and touched else 0.2)
    return out


def _feature_views(cfg: Config, contract: Contract, store: Any) -> dict[str, Any]:
    store = store or feast_store.open_store(cfg)
    try:
        info = feast_store.feature_view_info(store, contract.feature_view)
    except Exception as exc:  # an unknown view is reported, not fatal: contract_diff has the details
        return {"problems": [{"problem": f"feature view {contract.feature_view!r} not found: {exc}"}]}
    problems: list[dict[str, Any]] = []
    if info.stream_source is not None:
        for key in ("timestamp_field", "created_timestamp_column"):
            if info.stream_source.get(key) != info.batch_source.get(key):
                problems.append({"problem": f"batch and stream sources disagree on {key}",
                                 "batch": info.batch_source.get(key), "stream": info.stream_source.get(key)})
    if contract.ttl_seconds and info.ttl_seconds and contract.ttl_seconds != info.ttl_seconds:
        problems.append({"problem": "feature view TTL differs from the contract", "contract_s": contract.ttl_seconds,
                         "feature_view_s": info.ttl_seconds})
    odfv = {}
    for view in store.list_on_demand_feature_views():
        try:
            source = inspect.getsource(view.feature_transformation.udf)
        except (AttributeError, OSError, TypeError):
            source = getattr(view.feature_transformation, "udf_string", "") or ""
        odfv[view.name] = hashlib.sha256(source.encode()).hexdigest()
    return {"name": info.name, "entities": list(info.entities), "ttl_seconds": info.ttl_seconds,
            "batch_source": {**info.batch_source, "path": cfg.rel(info.batch_source["path"])},
            "stream_source": info.stream_source, "schema": info.schema, "on_demand_transformations": odfv,
            "problems": problems}
