"""Remediation planning: one concrete, reviewable action per root cause (docs/outputs.md#plan).

The planner never changes anything: it proposes patches, commands, rollback and canary steps, owners
and approvals. Findings that share a root cause on the same feature are linked to it, ranked by confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from drift_audit.core import patches
from drift_audit.core.contract import Contract, Feature
from drift_audit.core.findings import SEVERITIES, Finding

# Kinds that explain other findings on the same feature, strongest first.
ROOT_KINDS = (
    "pii_untokenized", "timezone_mismatch", "unit_mismatch", "window_mismatch", "aggregation_mismatch",
    "null_handling_mismatch", "missing_online", "missing_offline", "type_mismatch", "type_widening",
    "allowed_value_drift", "stale_online_values", "population_drift", "late_arriving_data", "duplicate_rows",
    "dependency_version_mismatch", "feature_definition_mismatch", "metadata_mismatch", "missing_online_keys",
    "empty_partition", "nullability_violation", "missing_default", "out_of_range", "row_count_change",
    "training_serving_skew", "distribution_drift", "region_parity_gap", "null_rate_increase",
)
FEAST_TYPES = {"float64": "Float64", "float32": "Float32", "int32": "Int32", "int64": "Int64", "bool": "Bool",
               "string": "String", "bytes": "Bytes"}


@dataclass(frozen=True)
class PlanInputs:
    contract: Contract
    day: date
    affected_days: int
    repo_path: Callable[[str], str | None]  # config path -> path relative to the repository root
    read: Callable[[str], str | None]  # config path -> file text
    online_code: str | None = None
    offline_code: str | None = None
    requirements: Mapping[str, str] = field(default_factory=dict)  # "offline"/"online" -> config path
    feast_definitions: str | None = None
    feast_repo: str = "feature_repo"
    contract_path: str = ""  # config path of the group's .proto file


def link_root_causes(findings: Sequence[Finding]) -> list[Finding]:
    """Each non-root finding on a feature points to the highest-ranked root finding of that feature."""
    by_feature: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        by_feature.setdefault((f.feature_group, f.feature), []).append(f)
    out = []
    for f in findings:
        peers = by_feature[(f.feature_group, f.feature)]
        roots = sorted((p for p in peers if p.kind in ROOT_KINDS),
                       key=lambda p: (ROOT_KINDS.index(p.kind), -(p.confidence or 0)))
        root = roots[0] if roots else None
        out.append(f.with_(root_cause=None if root is None or root.id == f.id else root.id))
    return out


def _approvals(contract: Contract, feat: Feature | None, breaking: bool, kind: str) -> list[str]:
    out = [f"feature owner ({(feat.owner if feat and feat.owner else contract.owner)})"]
    if contract.risk_tier == 1:
        out.append("model lead of each tier-1 consumer")
    if (feat and feat.is_pii) or kind == "pii_untokenized" or contract.data_classification == "restricted":
        out.append("privacy review")
    if breaking:
        out.append("data governance")
    if kind in ("stale_online_values", "missing_online_keys"):
        out.append("SRE on-call for the online store")
    return out


def _canary(contract: Contract, feature: str, kind: str) -> dict[str, Any]:
    return {
        "stages": ["shadow: compute new values beside the old for 24h, no traffic",
                   "5% of online traffic (one region) for 24h", "25% for 24h", "100%"],
        "metrics": [f"row-level match rate of {contract.group}.{feature} vs offline (drift-audit drift_deltas)",
                    f"PSI of {contract.group}.{feature} vs the training reference",
                    "monitored metric of every consuming model", "online store write errors and latency p95"],
        "abort_if": ["match rate < 99.9%", "PSI above the tier threshold",
                     "any consuming model's metric drops beyond its tier tolerance"],
    }


def _backfill(inputs: PlanInputs) -> dict[str, list[str]]:
    c = inputs.contract
    start = inputs.day - timedelta(days=inputs.affected_days - 1)
    end = inputs.day + timedelta(days=1)
    return {
        "dry_run": [
            f"drift-audit backfill --from {start} --to {inputs.day} --groups {c.group} --dry-run",
            f"feast -c {inputs.feast_repo} plan",
        ],
        "apply": [
            f"feast -c {inputs.feast_repo} materialize {start}T00:00:00 {end}T00:00:00 --views {c.feature_view}",
            f"drift-audit backfill --from {start} --to {inputs.day} --groups {c.group}",
        ],
    }


def plan(findings: Sequence[Finding], inputs: PlanInputs) -> dict[str, Any]:
    """{"actions": [...], "patches": {name: diff}, "root_causes": [...]} for one group's findings."""
    c = inputs.contract
    roots = [f for f in findings if f.root_cause is None and f.kind in ROOT_KINDS and f.severity != "info"]
    roots.sort(key=lambda f: (SEVERITIES.index(f.severity), -f.score, f.id))
    actions: list[dict[str, Any]] = []
    patch_files: dict[str, str] = {}
    for f in roots:
        feat = c.feature(f.feature) if f.feature in c.feature_names else None
        action = _action(f, feat, inputs)
        related = sorted(g.id for g in findings if g.root_cause == f.id)
        if action.get("patch_text"):
            name = f"{len(patch_files) + 1:02d}-{c.group}-{f.feature.replace('*', 'group')}-{f.kind}.patch"
            patch_files[name] = action.pop("patch_text")
            action["patch"] = f"patches/{name}"
        action.pop("patch_text", None)
        breaking = action.get("breaking", False)
        actions.append({
            "id": f"{c.group}-{len(actions) + 1:02d}", "finding": f.id, "related_findings": related,
            "severity": f.severity, "confidence": f.confidence, "impacted_models": list(f.impacted_models),
            "owners": sorted({*(c.owners or ()), *([feat.owner] if feat and feat.owner else [])}),
            "approvals": _approvals(c, feat, breaking, f.kind),
            "canary": _canary(c, f.feature, f.kind),
            **action,
        })
    causes: list[dict[str, Any]] = [{"root_cause": f.id, "confidence": f.confidence, "explains": sorted(g.id for g in findings
                                                                              if g.root_cause == f.id),
               "evidence": f.evidence} for f in roots if any(g.root_cause == f.id for g in findings)]
    causes.sort(key=lambda r: (-(r["confidence"] or 0), r["root_cause"]))
    return {"actions": actions, "patches": patch_files, "root_causes": causes}


def _action(f: Finding, feat: Feature | None, inputs: PlanInputs) -> dict[str, Any]:
    c = inputs.contract
    kind = f.kind
    validation = ["unit tests of the changed code", "drift-audit contracts check", "backfill dry run",
                  "shadow deployment compared with offline by drift-audit"]
    rollback = "revert the change's commit and redeploy the previous release; re-run the backfill for the range"
    if kind in ("timezone_mismatch", "unit_mismatch", "window_mismatch", "aggregation_mismatch",
                "null_handling_mismatch", "pii_untokenized") and feat is not None:
        patch_text, how = _code_patch(f, feat, inputs)
        extra = ["purge raw values from the online store and serving logs for the range (privacy incident)"] \
            if kind == "pii_untokenized" else []
        return {
            "type": "transformation_patch", "title": f"Fix {kind.replace('_', ' ')} of {c.group}.{f.feature} in serving",
            "description": how, "files": [p for p in [inputs.repo_path(inputs.online_code or "")] if p],
            "function": f.feature, "patch_text": patch_text, "commands": _backfill(inputs),
            "follow_up": extra, "rollback": rollback, "validation": validation, "breaking": False,
        }
    if kind == "allowed_value_drift" and feat is not None:
        return _contract_patch(f, feat, inputs, validation)
    if kind == "missing_online" and feat is not None and inputs.feast_definitions:
        text = inputs.read(inputs.feast_definitions)
        new = patches.add_feast_field(text, c.feature_view, feat.name, FEAST_TYPES.get(feat.type, "String")) if text else None
        path = inputs.repo_path(inputs.feast_definitions)
        return {
            "type": "feature_definition_patch", "title": f"Serve {c.group}.{feat.name} again",
            "description": f"The Feast feature view {c.feature_view!r} no longer lists {feat.name!r} although the "
                           f"contract (and its consumers) require it. Restore the field, apply, and materialize.",
            "files": [path] if path else [], "patch_text": patches.unified(path, text, new) if new and text and path else None,
            "commands": {"dry_run": [f"feast -c {inputs.feast_repo} plan"], "apply": _backfill(inputs)["apply"]},
            "rollback": "revert the definitions commit and `feast apply` the previous registry",
            "validation": validation, "breaking": False,
        }
    if kind in ("type_mismatch", "type_widening") and feat is not None:
        ev = f.evidence
        return {
            "type": "transformation_patch", "title": f"Write {c.group}.{feat.name} as {feat.type}",
            "description": f"The contract declares {feat.type}; the data has {ev.get('observed_type')} "
                           f"({ev.get('side')}). " + ("All observed values are integral, so a cast is lossless. "
                                                      if ev.get("non_integral_values") == 0 else "")
                           + "Cast in the writing pipelines rather than widening the contract: consumers "
                             "are compiled against the declared type.",
            "files": [p for p in [inputs.repo_path(inputs.offline_code or ""), inputs.repo_path(inputs.online_code or "")] if p],
            "patch_text": None, "commands": _backfill(inputs), "rollback": rollback, "validation": validation,
            "breaking": False,
        }
    if kind == "dependency_version_mismatch":
        return _requirements_patch(f, inputs, validation)
    if kind == "stale_online_values":
        return {
            "type": "data_backfill", "title": f"Re-materialize {c.group} and restore its materialization job",
            "description": "Online values are older than the freshness SLA: the materialization job has not "
                           "written since the newest value. Backfill, then find out why the schedule stopped.",
            "files": [], "patch_text": None, "commands": _backfill(inputs),
            "rollback": "none needed: materialization is idempotent; the previous values stay in the offline store",
            "validation": ["backfill dry run", "freshness gate passes on the next audit"], "breaking": False,
            "escalation": True,
        }
    if kind == "population_drift":
        return {
            "type": "retrain_or_rebaseline",
            "title": f"Review models consuming {c.group}.{f.feature}: the population moved",
            "description": "Offline and online agree row by row; the distribution itself changed since the "
                           "training window. No pipeline fix: evaluate consumers on recent data, retrain or "
                           "re-baseline the drift reference.",
            "files": [], "patch_text": None, "commands": {"dry_run": [], "apply": []},
            "rollback": "keep the current model version registered; roll back in the registry if the retrain regresses",
            "validation": ["offline evaluation on the last 7 days", "shadow scoring"], "breaking": False,
        }
    return {
        "type": "investigate", "title": f"Investigate {kind.replace('_', ' ')} on {c.group}.{f.feature}",
        "description": f"No mechanical fix is known for {kind}; the evidence is attached. Reproduce with "
                       f"`drift-audit compare` on the samples and escalate to the owner.",
        "files": [], "patch_text": None, "commands": {"dry_run": [], "apply": []}, "rollback": rollback,
        "validation": validation, "breaking": False, "escalation": kind in ("distribution_drift", "missing_online_keys",
                                                                             "empty_partition", "late_arriving_data"),
    }


def _code_patch(f: Finding, feat: Feature, inputs: PlanInputs) -> tuple[str | None, str]:
    code = inputs.online_code
    text = inputs.read(code) if code else None
    path = inputs.repo_path(code) if code else None
    if not text or not path:
        return None, f"Change the serving transformation of {feat.name} to match the contract."
    new = None
    if f.kind == "timezone_mismatch":
        tz = feat.timezone or "UTC"
        new = patches.fix_timezone(text, feat.name, tz)
        how = (f"`{feat.name}` converts to another timezone (online = offline {f.evidence.get('shift'):+d} h); "
               f"the contract declares {tz}. Convert to {tz}.")
    elif f.kind == "unit_mismatch":
        factor = f.evidence.get("factor", 1.0)
        new = patches.fix_scale(text, feat.name, factor)
        how = (f"`{feat.name}` serves values {factor:g} x the contract's unit ({feat.unit or 'declared unit'}); "
               f"divide by {factor:g}.")
    else:
        how = (f"`{feat.name}` in serving differs from the batch (reference) implementation; "
               f"use the batch definition.")
    if new is None and inputs.offline_code:
        reference = inputs.read(inputs.offline_code)
        new = patches.replace_function(text, reference, feat.name) if reference else None
    return (patches.unified(path, text, new) if new else None), how


def _contract_patch(f: Finding, feat: Feature, inputs: PlanInputs, validation: list[str]) -> dict[str, Any]:
    c = inputs.contract
    examples = [e["value"] for e in f.evidence.get("examples", [])] if not feat.is_pii else []
    text = inputs.read(inputs.contract_path)
    new = text
    if text and examples:
        enum = feat.proto_type if "." in feat.proto_type else None
        for value in examples:
            new = patches.add_allowed_value(new or "", feat.name, value, enum) or new
        bumped = patches.bump_version(new or "", "minor")
        if bumped:
            new = bumped[0]
    repo_file = inputs.repo_path(inputs.contract_path)
    return {
        "type": "contract_update",
        "title": f"Accept {', '.join(map(repr, examples)) or 'the new values'} in {c.group}.{feat.name} (MINOR bump)",
        "description": "Serving emits values the contract does not allow. If they are legitimate, extend the "
                       "allowed set (backward compatible: MINOR version bump; consumers must handle the new "
                       "value before it is served). If not, fix the serving code instead and reject this patch.",
        "files": [repo_file] if repo_file else [],
        "patch_text": patches.unified(repo_file, text, new) if text and new and repo_file and new != text else None,
        "migration": "consumers with exhaustive switches on this feature must add a branch for the new value",
        "commands": {"dry_run": ["drift-audit contracts check --against HEAD"], "apply": []},
        "rollback": "revert the contract commit; the previous version stays valid for existing consumers",
        "validation": validation, "breaking": False,
    }


def _requirements_patch(f: Finding, inputs: PlanInputs, validation: list[str]) -> dict[str, Any]:
    online = inputs.requirements.get("online")
    text = inputs.read(online) if online else None
    path = inputs.repo_path(online) if online else None
    new = text
    for diff in f.evidence.get("differences", []):
        if diff.get("offline") and new:
            new = patches.align_requirement(new, diff["library"], diff["offline"]) or new
    return {
        "type": "dependency_alignment", "title": "Pin the serving path to the batch path's library versions",
        "description": "Offline and online transformations run different library versions; libraries used by "
                       f"the serving code: {', '.join(f.evidence.get('libraries_used_by_online_code', [])) or 'none'}.",
        "files": [path] if path else [], "patch_text": patches.unified(path, text, new) if text and new and path else None,
        "commands": {"dry_run": ["pip install --dry-run -r <serving requirements>"], "apply": []},
        "rollback": "revert the requirements commit and redeploy", "validation": validation, "breaking": False,
    }
