"""summary.md: the executive summary — root causes, mitigation status, residual risk — in at most 300 words.

Status, mitigation and residual risk always fit; root causes are listed most severe first until the word
budget is spent, then counted ("+N more in report.md"). Words are whitespace-separated tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_WORDS = 300
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")


def words(text: str) -> int:
    return len(text.split())


def _label(a: Mapping[str, Any]) -> str:
    return f"{a['kind'].replace('_', ' ')} on `{a['feature'] if a['feature'] != '*' else 'the whole group'}`"


def _status(a: Mapping[str, Any], checks: Mapping[str, Mapping[str, str]]) -> str:
    if a.get("patch"):
        results = checks.get(a["patch"].removeprefix("patches/"), {})
        ok = results and all(v == "pass" for k, v in results.items() if k != "detail")
        return "patch ready, checks pass" if ok else "patch needs rework (a check failed)"
    return {"data_backfill": "backfill commands ready", "retrain_or_rebaseline": "model review needed",
            "investigate": "cause under investigation"}.get(a["type"], "manual change described")


def render(group: str, day: str, plan: Mapping[str, Any]) -> str:
    findings, actions = plan["findings"], plan["actions"]
    checks = plan.get("patch_checks", {})
    confidence = {r["root_cause"]: r["confidence"] for r in plan["root_causes"]}
    serious = [f for f in findings if f["severity"] != "info"]
    counts = {s: sum(1 for f in serious if f["severity"] == s) for s in SEVERITY_ORDER}
    regressed = [m for m in plan["models"] if m["regressed"]]
    head = [f"# Executive summary — {group} — {day}", ""]
    if not serious:
        return "\n".join([*head, "No defect found: contract, distributions, quality gates and transformations "
                                  "agree. No action needed.", ""])
    status = (f"**Status:** {plural(len(serious), 'finding')} ("
              + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f"); {plural(len(actions), 'defect')} to fix, each with an action. "
              + (" ".join(f"{m['name']}@v{m['version']} (tier {m['risk_tier']}) {m['metric']} fell "
                          f"{m['relative_drop']:.1%} in the window." for m in regressed[:2])
                 or "No consuming model regressed in the window."))
    patched = [a for a in actions if a.get("patch")]
    passing = [a for a in patched if _status(a, checks) == "patch ready, checks pass"]
    escalated = [a for a in actions if a.get("escalation")]
    roles = sorted({p["role"] for a in actions for p in a["approvals"]})
    mitigation = [
        "## Mitigation status", "",
        "- Nothing is applied yet: the audit proposes, owners merge and roll out behind canaries.",
        (f"- {len(passing)} of {plural(len(patched), 'patch')} pass the audit's checks (apply, compile, lint)."
         if patched else "- No patch: the actions are commands and reviews."),
        f"- Sign-off needed from: {', '.join(roles)}.",
        f"- {plural(len(escalated), 'escalation')}"
        + (f", first to {escalated[0]['escalation']['to']}." if escalated else "."),
    ]
    risk = ["## Residual risk", ""]
    if regressed:
        risk.append(f"- Until rollout, models that regressed ({', '.join(m['name'] for m in regressed[:3])}) "
                    "still score on affected values.")
    manual = [a for a in actions if not a.get("patch")]
    if manual:
        risk.append(f"- Actions without a mechanical patch: {len(manual)}; they need owner follow-up.")
    unsure = [a for a in actions if (confidence.get(a["finding"]) or a.get("confidence") or 1.0) < 0.8]
    if unsure:
        risk.append(f"- Root causes with confidence below 0.8: {len(unsure)}; they may be wrong.")
    if any(a["type"] == "retrain_or_rebaseline" for a in actions):
        risk.append("- Population drift persists after every fix: consuming models need retraining or re-baselining.")
    if any(a.get("breaking") for a in actions):
        risk.append("- A breaking contract change needs every consumer to migrate within its deprecation window.")
    if len(risk) == 2:
        risk.append("- Low once the patches are rolled out and a re-audit of the range is clean.")
    causes = sorted(actions, key=lambda a: (SEVERITY_ORDER.index(a["severity"]), -(confidence.get(a["finding"]) or 0)))
    bullets = [f"{i}. {_label(a)} ({a['severity']}"
               + (f", confidence {confidence[a['finding']]:.2f}" if a["finding"] in confidence else "")
               + (f", explains {len(a['related_findings'])} more" if a["related_findings"] else "")
               + f"): {_status(a, checks)}." for i, a in enumerate(causes, 1)]
    tail = [*mitigation, "", *risk, "", "Details: report.md; approvals and rollout: tickets/.", ""]
    fixed = words("\n".join([*head, status, "", "## Root causes", "", *tail]))
    shown: list[str] = []
    for b in bullets:
        more = len(bullets) - len(shown) - 1
        reserve = words(f"+{more} more in report.md.") if more else 0
        if fixed + words("\n".join([*shown, b])) + reserve > MAX_WORDS:
            break
        shown.append(b)
    if len(shown) < len(bullets):
        shown.append(f"+{len(bullets) - len(shown)} more in report.md.")
    return "\n".join([*head, status, "", "## Root causes", "", *shown, "", *tail])

