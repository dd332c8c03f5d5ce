"""How a proposed change ships: approvals, canary, backfill commands, escalation (docs/outputs.md#plan).

Approval rules: the feature owner always signs; tier 1 (the contract's tier or a consuming model's) adds
the model lead of each consuming model; a PII feature adds privacy review; a breaking contract change
adds data governance; online-store operations add the SRE on-call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from drift_audit.core.contract import Contract, Feature
from drift_audit.core.findings import Finding
from drift_audit.core.impact import ModelStatus, consumers

ROLES = {"privacy": "privacy review", "data_governance": "data governance", "sre": "SRE on-call (online store)"}
ONLINE_STORE_KINDS = frozenset({"stale_online_values", "missing_online_keys", "missing_online"})
# Requested service levels of escalation tickets, by severity: (acknowledge, mitigate).
SLA = {"critical": ("30 minutes (page the on-call)", "24 hours"), "high": ("4 hours", "3 days"),
       "medium": ("1 business day", "2 weeks"), "low": ("3 business days", "next planning cycle"),
       "info": ("none", "none")}
# Who owns the fix when it is not the feature's owner (the cross-team blockers).
ESCALATE_TO = {
    "stale_online_values": "feature platform on-call (materialization jobs)",
    "missing_online_keys": "feature platform on-call (online store)",
    "empty_partition": "upstream data producer of the offline source",
    "late_arriving_data": "upstream data producer (event delivery)",
    "row_count_change": "upstream data producer of the offline source",
    "pii_untokenized": "privacy office (privacy incident)",
    "allowed_value_drift": "upstream data producer (source contract violation)",
    "distribution_drift": "feature owner and upstream data producer (cause not established)",
    "training_serving_skew": "feature owner and serving platform (cause not established)",
}


def touches_pii(contract: Contract, feat: Feature | None, finding: Finding) -> bool:
    if finding.kind == "pii_untokenized" or (feat is not None and feat.is_pii):
        return True
    return finding.feature == "*" and any(f.is_pii for f in contract.features)


def approvals(contract: Contract, feat: Feature | None, finding: Finding, models: Sequence[ModelStatus],
              breaking: bool, approvers: Mapping[str, str]) -> list[dict[str, str]]:
    """[{role, who, reason}] in a fixed order; `approvers` maps a role key to a person or list."""
    owner = feat.owner if feat is not None and feat.owner else contract.owner
    out = [{"role": "feature owner", "who": owner, "reason": f"owns {contract.group}.{finding.feature}"}]
    users = consumers(contract.group, finding.feature, models)
    if contract.risk_tier == 1 or any(m.risk_tier == 1 for m in users):
        why = "tier 1 contract" if contract.risk_tier == 1 else "tier 1 consuming model"
        out += [{"role": "model lead", "who": m.owner, "reason": f"{why}; {m.name}@v{m.version} consumes it"}
                for m in sorted(users, key=lambda m: m.name)]
        if not users:
            out.append({"role": "model lead", "who": "lead of each consuming model", "reason": why})
    if touches_pii(contract, feat, finding):
        out.append({"role": ROLES["privacy"], "who": approvers.get("privacy", ROLES["privacy"]),
                    "reason": "PII feature: tokenization and access review, privacy impact assessment"})
    if breaking:
        out.append({"role": ROLES["data_governance"], "who": approvers.get("data_governance", ROLES["data_governance"]),
                    "reason": "breaking contract change: MAJOR version and deprecation window"})
    if finding.kind in ONLINE_STORE_KINDS:
        out.append({"role": ROLES["sre"], "who": approvers.get("sre", ROLES["sre"]),
                    "reason": "changes what the online store serves"})
    return out


def canary(contract: Contract, feature: str, action_type: str, thresholds: Mapping[str, float]) -> dict[str, Any]:
    """Stages (with durations for the rollout timeline), metrics to watch, and abort criteria."""
    name = f"{contract.group}.{feature}"
    match = 1 - thresholds["skew_mismatch"]
    if action_type == "contract_update":
        stages = [("publish the new contract version to the registry; consumers build against it", 0),
                  ("shadow: producers emit the new values to a shadow feature view, no consumer reads them", 1),
                  ("consumers switch, one model at a time, lowest tier first", 2), ("100% of consumers", 1)]
    elif action_type in ("data_backfill", "feature_definition_patch"):
        stages = [("dry run (read-only) over the affected range", 0), ("materialize one day, re-audit it", 1),
                  ("materialize the remaining range", 1)]
    else:
        stages = [("shadow: compute new values beside the old, no traffic", 1),
                  ("5% of online traffic (one region)", 1), ("25% of online traffic", 1), ("100%", 0)]
    return {
        "stages": [{"stage": s, "days": d} for s, d in stages],
        "metrics": [f"row-level match rate of {name} online vs offline (drift-audit drift_deltas)",
                    f"PSI of {name} vs the training reference",
                    "monitored metric of every consuming model (MLflow)",
                    "online store write errors and read latency p95"],
        "abort_if": [f"match rate below {match:.2%}", f"PSI above {thresholds['psi']:g} (tier {contract.risk_tier})",
                     f"a consuming model's metric drops more than {thresholds['model_regression']:.1%} (relative)",
                     "online store errors above the SLO"],
    }


def timeline(stages: Sequence[Mapping[str, Any]], approvals_count: int) -> list[dict[str, Any]]:
    """Rollout timeline in days relative to the approval of the change (T)."""
    signs = f"{approvals_count} approval" + ("" if approvals_count == 1 else "s")
    out = [{"day": "T-1", "step": f"review and sign-off ({signs})"}, {"day": "T+0", "step": "merge"}]
    day = 0
    for s in stages:
        out.append({"day": f"T+{day}", "step": s["stage"]})
        day += int(s["days"])
    out.append({"day": f"T+{day}", "step": "re-audit the affected range; close the ticket if clean"})
    return out


def backfill_commands(group: str, feature_view: str, day: date, days: int, feast_repo: str,
                      workspace: str) -> dict[str, list[str]]:
    """Read-only dry run first, then the writes, then the verification audit, for the affected range."""
    start = day - timedelta(days=days - 1)
    keys = ",".join(f"{start + timedelta(days=i)}|{group}" for i in range(days))
    audit = f"dagster job backfill -w {workspace} -j audit_job --partitions '{keys}' --noprompt"
    return {
        "dry_run": [f"feast -c {feast_repo} plan",
                    f"{audit} --tags '{{\"drift_audit/phase\": \"dry-run\"}}'"],
        "apply": [f"feast -c {feast_repo} materialize {start}T00:00:00 {day + timedelta(days=1)}T00:00:00 "
                  f"--views {feature_view}"],
        "verify": [f"{audit} --tags '{{\"drift_audit/phase\": \"verify\"}}'"],
    }


def escalation(finding: Finding, owners: Sequence[str], has_fix: bool) -> dict[str, Any] | None:
    """A cross-team blocker: the fix belongs to another team (or its cause is unknown)."""
    target = ESCALATE_TO.get(finding.kind)
    if target is None or (finding.kind in ("distribution_drift", "training_serving_skew") and has_fix):
        return None
    ack, mitigate = SLA[finding.severity]
    return {"to": target, "from": ", ".join(owners), "requested_sla": {"acknowledge": ack, "mitigate": mitigate}}
