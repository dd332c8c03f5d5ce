"""validation_matrix.json/.md: the pre-merge checks each change needs, and the checks this audit ran.

Per change: every required check with its status — `pass`/`fail` when the audit ran it on the patch
(apply, compile, lint), `required` when it must run before merge (unit tests, contracts check, backfill
dry run, shadow deployment) — and the dashboards to re-baseline after the deploy. Audit checks: one row
per check the audit itself ran on the partition (contract, drift, skew, gates, transformations, models).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drift_audit.core.deliverables.tickets import CHECK_NAMES
from drift_audit.core.report import table

PASS, FAIL, REQUIRED = "pass", "fail", "required"
RAN_BY = {"patch_applies": "audit", "code_compiles": "audit", "contract_compiles": "audit", "buf_lint": "audit",
          "contracts_check": "CI", "unit_tests": "CI", "backfill_dry_run": "owner", "shadow_deployment": "owner",
          "offline_evaluation": "model owner", "reproduction": "owner"}


def matrix(group: str, day: str, ctx: Mapping[str, Any]) -> dict[str, Any]:
    plan = ctx["plan"]
    patch_checks = plan.get("patch_checks", {})
    changes = []
    for a in plan["actions"]:
        ran: dict[str, str] = {}
        for key in ("patch", "follow_up_patch"):
            if a.get(key):
                for k, v in patch_checks.get(a[key].removeprefix("patches/"), {}).items():
                    if k != "detail" and ran.get(k) != FAIL:
                        ran[k] = v
        checks = [{"check": c, "what": CHECK_NAMES[c], "run_by": RAN_BY[c], "status": ran.get(c, REQUIRED)}
                  for c in a["validation"]]
        changes.append({
            "action": a["id"], "title": a["title"], "type": a["type"], "patch": a.get("patch"),
            "checks": checks, "ready_to_merge": False,  # human sign-off is always outstanding
            "re_baseline": _dashboards(group, a),
        })
    return {"partition": f"{day}|{group}", "changes": changes, "audit_checks": audit_checks(ctx),
            "statuses": {PASS: "ran and passed", FAIL: "ran and failed", REQUIRED: "must run before merge"}}


def _dashboards(group: str, a: Mapping[str, Any]) -> list[str]:
    feature = f"{group}.{a['feature']}"
    out = [f"drift reference of {feature} (drift-audit reference window)"]
    if a["type"] in ("transformation_patch", "data_backfill", "feature_definition_patch", "dependency_alignment"):
        out.append(f"freshness and online-store health panels of {group}")
    out += [f"model monitoring of {m}" for m in a["impacted_models"]]
    return out


def audit_checks(ctx: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the audit checked on the partition, with pass/fail and the numbers behind it."""
    snap, plan, drift, gates = ctx["contract_snapshot"], ctx["plan"], ctx["drift"], ctx["quality"]
    rows: list[dict[str, Any]] = [{"check": "contract compiles (protoc)", "feature": "*", "side": "—",
                                   "status": PASS, "observed": snap["contract"]["version"], "threshold": None}]
    by_feature: dict[str, list[str]] = {}
    for f in plan["findings"]:
        if f["detected_by"] == "contract_diff":
            by_feature.setdefault(f["feature"], []).append(f["kind"])
    for name in [f["name"] for f in snap["contract"]["features"]]:
        kinds = by_feature.get(name, [])
        rows.append({"check": "contract conformance", "feature": name, "side": "offline+online",
                     "status": FAIL if kinds else PASS, "observed": ", ".join(kinds) or "conforms", "threshold": None})
    for r in drift["features"]:
        rows.append({"check": "distribution drift (quorum of tests)", "feature": r["name"], "side": r["side"],
                     "status": FAIL if r["drifted"] else PASS, "observed": f"{r['votes']} votes",
                     "threshold": f"{r['quorum']} votes"})
        skew = r.get("skew") or {}
        if skew.get("aligned"):
            rows.append({"check": "row-level skew (same entity, same time)", "feature": r["name"], "side": r["side"],
                         "status": FAIL if (1 - skew["match_rate"]) > drift["thresholds"]["skew_mismatch"] else PASS,
                         "observed": skew["match_rate"], "threshold": 1 - drift["thresholds"]["skew_mismatch"]})
    for g in gates["gates"]:
        rows.append({"check": f"quality gate: {g['gate']}", "feature": g["feature"], "side": g["side"],
                     "status": PASS if g["passed"] else FAIL, "observed": g["observed"], "threshold": g["threshold"]})
    for f in ctx["transformation"]["findings"]:
        rows.append({"check": "transformation audit", "feature": f["feature"], "side": ", ".join(f["sources"]) or "—",
                     "status": FAIL, "observed": f["kind"], "threshold": None})
    for m in plan["models"]:
        rows.append({"check": f"model regression ({m['name']}@v{m['version']})", "feature": "*", "side": "MLflow",
                     "status": FAIL if m["regressed"] else PASS, "observed": m["relative_drop"],
                     "threshold": m["tolerance"]})
    return rows


def markdown(m: Mapping[str, Any]) -> str:
    lines = [f"# Validation matrix — {m['partition']}", "",
             "Statuses: " + "; ".join(f"`{k}` {v}" for k, v in m["statuses"].items()) + ".", "",
             "## Pre-merge checks per change", ""]
    for c in m["changes"]:
        lines += [f"### {c['action']}: {c['title']}", "",
                  table(["check", "what", "run by", "status"],
                        [[x["check"], x["what"], x["run_by"], x["status"]] for x in c["checks"]]),
                  "Re-baseline after deploy: " + "; ".join(c["re_baseline"]) + ".", ""]
    if not m["changes"]:
        lines += ["_no change proposed_", ""]
    lines += ["## Checks this audit ran", "",
              table(["check", "feature", "side", "status", "observed", "threshold"],
                    [[r["check"], r["feature"], r["side"], r["status"], r["observed"], r["threshold"]]
                     for r in m["audit_checks"]])]
    return "\n".join(lines)
