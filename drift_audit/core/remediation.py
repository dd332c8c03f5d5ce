"""Remediation planning: one concrete, reviewable action per defect (docs/outputs.md#plan).

The planner never changes anything. For every cause (and every symptom no cause explains) it proposes a
patch, a command or an investigation, with its rollback path, canary strategy, owners, approvals and the
pre-merge checks it needs. Symptoms that share a cause are listed under the cause's action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from drift_audit.core import contract_actions, patches, rollout, root_causes
from drift_audit.core.contract import Contract, Feature
from drift_audit.core.findings import SEVERITIES, Finding
from drift_audit.core.impact import ModelStatus
from drift_audit.core.tiers import thresholds

FEAST_TYPES = {"float64": "Float64", "float32": "Float32", "int32": "Int32", "int64": "Int64", "bool": "Bool",
               "string": "String", "bytes": "Bytes"}
CODE_KINDS = ("timezone_mismatch", "unit_mismatch", "window_mismatch", "aggregation_mismatch",
              "null_handling_mismatch", "pii_untokenized")
# Pre-merge checks each action type needs (ids of validation_matrix.json, docs/outputs.md).
CHECKS = {
    "transformation_patch": ("patch_applies", "code_compiles", "unit_tests", "backfill_dry_run", "shadow_deployment"),
    "contract_update": ("patch_applies", "contract_compiles", "buf_lint", "contracts_check", "unit_tests",
                        "shadow_deployment"),
    "feature_definition_patch": ("patch_applies", "code_compiles", "unit_tests", "backfill_dry_run",
                                 "shadow_deployment"),
    "dependency_alignment": ("patch_applies", "unit_tests", "shadow_deployment"),
    "data_backfill": ("backfill_dry_run",),
    "retrain_or_rebaseline": ("offline_evaluation", "shadow_deployment"),
    "investigate": ("reproduction",),
}


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
    models: Sequence[ModelStatus] = ()
    approvers: Mapping[str, str] = field(default_factory=dict)
    tier_overrides: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    workspace: str = "workspace.yaml"


def link_root_causes(findings: Sequence[Finding]) -> list[Finding]:
    """Each symptom points to the cause that explains it best (core.root_causes)."""
    return root_causes.link(findings)


def plan(findings: Sequence[Finding], inputs: PlanInputs) -> dict[str, Any]:
    """{"actions": [...], "patches": {name: diff}, "root_causes": [...]} for one group's findings."""
    c = inputs.contract
    heads = [f for f in findings if f.root_cause is None and f.severity != "info" and f.kind != "model_regression"]
    heads.sort(key=lambda f: (SEVERITIES.index(f.severity), -f.score, f.id))
    limits = thresholds(c.risk_tier if c.risk_tier in (1, 2, 3) else 3, inputs.tier_overrides)
    actions: list[dict[str, Any]] = []
    patch_files: dict[str, str] = {}
    for f in heads:
        feat = c.feature(f.feature) if f.feature in c.feature_names else None
        action = _action(f, feat, inputs)
        for key in ("patch", "follow_up_patch"):
            text = action.pop(f"{key}_text", None)
            if text:
                suffix = "-after-deprecation-window" if key == "follow_up_patch" else ""
                name = f"{len(patch_files) + 1:02d}-{c.group}-{f.feature.replace('*', 'group')}-{f.kind}{suffix}.patch"
                patch_files[name] = text
            action[key] = f"patches/{name}" if text else None
        owners = sorted({*(c.owners or ()), *([feat.owner] if feat and feat.owner else [])})
        breaking = bool(action.get("breaking"))
        approvals = rollout.approvals(c, feat, f, inputs.models, breaking, inputs.approvers)
        canary = rollout.canary(c, f.feature, action["type"], limits)
        actions.append({
            "id": f"{c.group}-{len(actions) + 1:02d}", "finding": f.id, "kind": f.kind, "feature": f.feature,
            "related_findings": sorted(g.id for g in findings if g.root_cause == f.id),
            "severity": f.severity, "confidence": f.confidence, "impacted_models": list(f.impacted_models),
            "owners": owners, "approvals": approvals, "canary": canary,
            "timeline": rollout.timeline(canary["stages"], len(approvals)),
            "validation": list(CHECKS[action["type"]]),
            "escalation": rollout.escalation(f, owners, action["type"] != "investigate"),
            "contract_change": None, "follow_up": [], "function": None, "breaking": False,
            **action,
        })
    return {"actions": actions, "patches": patch_files, "root_causes": root_causes.ranked(findings)}


def _action(f: Finding, feat: Feature | None, inputs: PlanInputs) -> dict[str, Any]:
    c = inputs.contract
    kind = f.kind
    backfill = rollout.backfill_commands(c.group, c.feature_view, inputs.day, inputs.affected_days,
                                         inputs.feast_repo, inputs.workspace)
    revert = ["revert the merge commit of the change and redeploy the previous release",
              "re-materialize the affected range from the offline store (the backfill's apply step)"]
    if kind in CODE_KINDS and feat is not None:
        return _code_action(f, feat, inputs, backfill, revert)
    if kind == "allowed_value_drift" and feat is not None and not feat.is_pii and f.evidence.get("examples"):
        return contract_actions.accept_values(f, feat, inputs.contract, inputs.read(inputs.contract_path),
                                              inputs.repo_path(inputs.contract_path))
    if kind in ("type_mismatch", "type_widening") and feat is not None:
        ev = f.evidence
        if ev.get("non_integral_values") not in (None, 0) and feat.type in ("int32", "int64"):
            return contract_actions.retype(f, feat, inputs.contract, _texts(inputs), inputs.feast_definitions and
                                           inputs.repo_path(inputs.feast_definitions), FEAST_TYPES)
        return _cast_action(f, feat, inputs, backfill, revert)
    if kind == "missing_default" and feat is not None and not feat.is_pii:
        return contract_actions.add_default(f, feat, inputs.contract, inputs.read(inputs.contract_path),
                                            inputs.repo_path(inputs.contract_path))
    if kind == "missing_online" and feat is not None and inputs.feast_definitions:
        return _feast_field_action(f, feat, inputs, backfill)
    if kind == "dependency_version_mismatch":
        return _requirements_action(f, inputs)
    if kind in ("stale_online_values", "missing_online_keys"):
        return {
            "type": "data_backfill", "title": f"Re-materialize {c.group} and restore its materialization job",
            "description": ("Online values are older than the freshness SLA: the materialization job has not "
                            "written since the newest value. " if kind == "stale_online_values" else
                            "Sampled entity keys have no online value. ")
                           + "Backfill the online store from the offline store, then find out why the job stopped.",
            "files": [], "commands": backfill,
            "rollback": ["none needed: materialization is idempotent and the offline store keeps every value"],
            "downtime": "none: values are overwritten in place",
        }
    if kind == "population_drift":
        return {
            "type": "retrain_or_rebaseline",
            "title": f"Review models consuming {c.group}.{f.feature}: the population moved",
            "description": "Offline and online agree row by row; the distribution itself changed since the "
                           "training window. No pipeline fix: evaluate consumers on recent data, retrain or "
                           "re-baseline the drift reference.",
            "files": [], "commands": {"dry_run": [], "apply": [], "verify": []},
            "rollback": ["keep the current model version registered; roll back in the registry if the retrain regresses"],
            "downtime": "none",
        }
    return {
        "type": "investigate", "title": f"Investigate {kind.replace('_', ' ')} on {c.group}.{f.feature}",
        "description": f"No mechanical fix is known for {kind}; the evidence is attached. Reproduce with "
                       f"the audit of {c.group} for {inputs.day} and fix where the evidence points.",
        "files": [], "commands": {"dry_run": [], "apply": [], "verify": backfill["verify"][:1]},
        "rollback": revert[:1], "downtime": "unknown until the cause is found",
    }


def _texts(inputs: PlanInputs) -> dict[str, str | None]:
    return {"contract": inputs.read(inputs.contract_path), "contract_file": inputs.repo_path(inputs.contract_path),
            "feast": inputs.read(inputs.feast_definitions) if inputs.feast_definitions else None}


def _code_action(f: Finding, feat: Feature, inputs: PlanInputs, backfill: dict[str, list[str]],
                 revert: list[str]) -> dict[str, Any]:
    c = inputs.contract
    path = inputs.repo_path(inputs.online_code) if inputs.online_code else None
    text = inputs.read(inputs.online_code) if inputs.online_code else None
    function = patches.function_for(text, feat.name) if text else None
    new, how = None, f"Change the serving transformation of {feat.name} to match the contract."
    if text and function:
        new, how = _code_fix(f, feat, text, function, inputs)
    follow = ["purge the raw values from the online store and serving logs for the range (privacy incident)",
              "rotate any downstream copies: the tokenized value replaces the raw one"] if f.kind == "pii_untokenized" else []
    return {
        "type": "transformation_patch",
        "title": f"Fix {f.kind.replace('_', ' ')} of {c.group}.{feat.name} in serving",
        "description": how, "files": [path] if path else [], "function": function,
        "patch_text": patches.unified(path, text, new) if path and text and new else None,
        "commands": backfill, "follow_up": follow, "rollback": revert,
        "downtime": "none: the fix rolls out behind a canary; online values are rewritten in place",
    }


def _code_fix(f: Finding, feat: Feature, text: str, function: str, inputs: PlanInputs) -> tuple[str | None, str]:
    new = None
    if f.kind == "timezone_mismatch":
        tz = feat.timezone or "UTC"
        new = patches.fix_timezone(text, function, tz)
        how = (f"`{function}` converts to another timezone (online = offline {f.evidence.get('shift', 0):+d} "
               f"{f.evidence.get('unit', 'hours')}); the contract declares {tz}. Convert to {tz}.")
    elif f.kind == "unit_mismatch":
        factor = f.evidence.get("factor", 1.0)
        new = patches.fix_scale(text, function, factor)
        how = (f"`{function}` serves values {factor:g} x the contract's unit ({feat.unit or 'declared unit'}); "
               f"divide by {factor:g}.")
    elif f.kind == "pii_untokenized":
        how = (f"`{function}` serves {feat.name} without the declared {feat.tokenization or 'tokenization'}; "
               f"use the batch pipeline's tokenization.")
    else:
        how = f"`{function}` in serving differs from the batch (reference) implementation; use the batch definition."
    reference = inputs.read(inputs.offline_code) if inputs.offline_code else None
    if new is None and reference:
        new = patches.replace_function(text, reference, function)
    return new, how


def _cast_action(f: Finding, feat: Feature, inputs: PlanInputs, backfill: dict[str, list[str]],
                 revert: list[str]) -> dict[str, Any]:
    c, ev = inputs.contract, f.evidence
    side = ev.get("side")
    code = inputs.offline_code if side == "offline" else inputs.online_code
    path = inputs.repo_path(code) if code else None
    lossless = "All observed values are integral, so the cast is lossless. " if ev.get("non_integral_values") == 0 else ""
    return {
        "type": "transformation_patch", "title": f"Write {c.group}.{feat.name} as {feat.type}",
        "description": f"The contract declares {feat.type}; the {side or 'observed'} data has "
                       f"{ev.get('observed_type')}. {lossless}Cast to {feat.type} where the {side or ''} pipeline "
                       f"writes {feat.name}, rather than widening the contract: consumers are compiled against "
                       f"the declared type.",
        "files": [path] if path else [], "patch_text": None, "commands": backfill, "rollback": revert,
        "downtime": "none",
    }


def _feast_field_action(f: Finding, feat: Feature, inputs: PlanInputs, backfill: dict[str, list[str]]) -> dict[str, Any]:
    c = inputs.contract
    assert inputs.feast_definitions
    text = inputs.read(inputs.feast_definitions)
    path = inputs.repo_path(inputs.feast_definitions)
    new = patches.add_feast_field(text, c.feature_view, feat.name, FEAST_TYPES.get(feat.type, "String")) if text else None
    return {
        "type": "feature_definition_patch", "title": f"Serve {c.group}.{feat.name} again",
        "description": f"The Feast feature view {c.feature_view!r} no longer lists {feat.name!r} although the "
                       f"contract (and its consumers) require it. Restore the field, `feast apply`, and materialize.",
        "files": [path] if path else [],
        "patch_text": patches.unified(path, text, new) if new and text and path else None,
        "commands": {"dry_run": backfill["dry_run"], "apply": [f"feast -c {inputs.feast_repo} apply", *backfill["apply"]],
                     "verify": backfill["verify"]},
        "rollback": ["revert the definitions commit and `feast apply` the previous registry"],
        "downtime": "none: the field is added; existing fields are untouched",
    }


def _requirements_action(f: Finding, inputs: PlanInputs) -> dict[str, Any]:
    online = inputs.requirements.get("online")
    text = inputs.read(online) if online else None
    path = inputs.repo_path(online) if online else None
    new = text
    for diff in f.evidence.get("differences", []):
        if diff.get("offline") and new:
            new = patches.align_requirement(new, diff["library"], diff["offline"]) or new
    return {
        "type": "dependency_alignment", "title": "Pin the serving path to the batch path's library versions",
        "description": "Offline and online transformations run different library versions ("
                       + ", ".join(f"{d['library']} {d.get('online')} online vs {d.get('offline')} offline"
                                   for d in f.evidence.get("differences", []))
                       + "); libraries used by the serving code: "
                       + (", ".join(f.evidence.get("libraries_used_by_online_code", [])) or "none") + ".",
        "files": [path] if path else [],
        "patch_text": patches.unified(path, text, new) if text and new and path else None,
        "commands": {"dry_run": [f"pip install --dry-run -r {path or 'the serving requirements'}"],
                     "apply": [f"pip install -r {path or 'the serving requirements'}"], "verify": []},
        "rollback": ["revert the requirements commit and redeploy the previous image"],
        "downtime": "none: rolling redeploy of the serving image",
    }
