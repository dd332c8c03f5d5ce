"""tickets/: a PR template per patch, a change ticket per other action, an escalation per cross-team blocker.

Each is filled in from the plan: owners, reviewers (the required approvals), rollout timeline, checklist.
Escalations carry reproduction steps, evidence artifacts (paths and sha256) and the requested SLA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift_audit.core.report import signer, table

CHECK_NAMES = {
    "patch_applies": "patch applies to the base commit (`git apply --check`)",
    "code_compiles": "changed Python compiles",
    "contract_compiles": "contracts compile with protoc",
    "buf_lint": "`buf lint` passes",
    "contracts_check": "`drift-audit contracts check` passes (compatibility, version bump, consumers)",
    "unit_tests": "unit tests of the changed code pass",
    "backfill_dry_run": "backfill dry run reviewed (read-only)",
    "shadow_deployment": "shadow deployment matches offline (drift-audit re-audit)",
    "offline_evaluation": "offline evaluation of consuming models on recent data",
    "reproduction": "defect reproduced and cause identified",
}


def render_all(contract: Mapping[str, Any], plan: Mapping[str, Any], commit: str | None,
               artifacts: Sequence[tuple[str, str]]) -> dict[str, str]:
    """{relative path under tickets/: markdown}; `artifacts` are (path in the folder, sha256) evidence."""
    out: dict[str, str] = {}
    checks = plan.get("patch_checks", {})
    for a in plan["actions"]:
        kind = "PR" if a.get("patch") else "TICKET"
        out[f"{a['id']}-{kind}.md"] = _change(contract, plan, a, commit, checks, kind)
        if a.get("escalation"):
            out[f"{a['id']}-ESCALATION.md"] = _escalation(contract, plan, a, commit, artifacts)
    return out


def _change(contract: Mapping[str, Any], plan: Mapping[str, Any], a: Mapping[str, Any], commit: str | None,
            checks: Mapping[str, Mapping[str, str]], kind: str) -> str:
    ran = {}
    for key in ("patch", "follow_up_patch"):
        if a.get(key):
            ran.update({k: v for k, v in checks.get(a[key].removeprefix("patches/"), {}).items() if k != "detail"})
    meta = [
        ["type", a["type"]], ["severity", a["severity"]], ["finding", a["finding"]],
        ["also fixes", ", ".join(a["related_findings"]) or "—"],
        ["files", ", ".join(a["files"]) + (f" (function `{a['function']}`)" if a.get("function") else "") or "—"],
        ["patch", f"../{a['patch']}" if a.get("patch") else "none: manual change"],
        ["base commit", commit or "not in Git"], ["owners", ", ".join(a["owners"])],
        ["reviewers", "; ".join(signer(p) for p in a["approvals"])],
        ["impacted models", ", ".join(a["impacted_models"]) or "—"],
        ["labels", f"drift-audit, {contract['group']}, {a['kind']}, {a['severity']}"
                   + (", breaking-change" if a.get("breaking") else "")],
        ["audit", f"{plan['date']} / {contract['group']} (report: ../report.md)"],
    ]
    lines = [f"# [{kind}] {a['id']}: {a['title']}", "", table(["field", "value"], meta), "## Summary", "",
             a["description"], ""]
    cc = a.get("contract_change")
    if cc:
        lines += ["## Contract change", "",
                  f"v{cc['from_version']} → v{cc['to_version']} ({cc['bump']}"
                  f"{', BREAKING' if cc['breaking'] else ''}"
                  + (f", deprecation window {cc['deprecation_window']}" if cc["deprecation_window"] else "") + ").", "",
                  *[f"- {c}" for c in cc["schema_changes"]], "", "Migration for consumers:", "",
                  *[f"- {m}" for m in cc["migration"]], ""]
    lines += ["## Pre-merge checklist", ""]
    for check in a["validation"]:
        status = ran.get(check)
        box = "x" if status == "pass" else " "
        note = f" — audit ran it: {status}" if status else ""
        lines.append(f"- [{box}] {CHECK_NAMES.get(check, check)}{note}")
    lines += ["", "## Commands", ""]
    for step in ("dry_run", "apply", "verify"):
        for cmd in a["commands"].get(step, []):
            lines.append(f"- {step.replace('_', ' ')}: `{cmd}`")
    lines += ["", "## Rollout timeline", "", table(["day", "step"], [[t["day"], t["step"]] for t in a["timeline"]]),
              "Canary metrics: " + "; ".join(a["canary"]["metrics"]) + ".", "",
              "Abort if: " + "; ".join(a["canary"]["abort_if"]) + ".", "", "## Rollback", "",
              *[f"{i}. {step}" for i, step in enumerate(a["rollback"], 1)], "", "## Sign-off", "",
              *[f"- [ ] {signer(p)} — {p['reason']}" for p in a["approvals"]],
              "- [ ] automated checks above all green", ""]
    return "\n".join(lines)


def _escalation(contract: Mapping[str, Any], plan: Mapping[str, Any], a: Mapping[str, Any], commit: str | None,
                artifacts: Sequence[tuple[str, str]]) -> str:
    e = a["escalation"]
    finding = next((f for f in plan["findings"] if f["id"] == a["finding"]), None)
    evidence = (finding or {}).get("evidence", {})
    leads = sorted({m["owner"] for m in plan["models"] if f"{m['name']}@v{m['version']}" in a["impacted_models"]})
    lines = [
        f"# [ESCALATION] {a['id']}: {a['title']}", "",
        table(["field", "value"], [
            ["to", e["to"]], ["from", e["from"]], ["severity", a["severity"]],
            ["requested SLA", f"acknowledge within {e['requested_sla']['acknowledge']}; mitigate within "
                              f"{e['requested_sla']['mitigate']}"],
            ["blocks", f"{a['id']} ({a['type']}); impacted models: {', '.join(a['impacted_models']) or 'none'}"],
            ["audit", f"{plan['date']} / {contract['group']}"]]),
        "## Why this is escalated", "",
        f"{a['description']} This needs {e['to']} to act, beyond the feature's owners "
        f"({', '.join(a['owners'])}).", "",
        "## Reproduction steps", "",
        f"1. Check out the contracts at commit `{commit or 'HEAD'}`.",
        f"2. With the same `drift_audit.yaml`, run `drift-audit audit --date {plan['date']} --groups "
        f"{contract['group']}` (read-only).",
        f"3. In `{plan['date']}/{contract['group']}/findings.json`, finding `{a['finding']}` reproduces with this "
        f"evidence (aggregates only):", "",
        table(["key", "value"], [[k, v] for k, v in sorted(evidence.items())
                                 if not isinstance(v, dict | list)]),
        "## Evidence artifacts", "",
        table(["artifact", "sha256"], [[f"../{p}", h] for p, h in artifacts]),
        "## Requested SLA", "",
        f"- acknowledge: {e['requested_sla']['acknowledge']}",
        f"- mitigate: {e['requested_sla']['mitigate']}",
        f"- escalate further if missed: pager to the on-call feature platform engineer and the ML lead "
        f"({', '.join(leads) or 'the owners of the consuming models'})",
        "",
    ]
    return "\n".join(lines)
