"""notification.md: a draft for the group's data consumers — impact, downtime, schema changes, to-dos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drift_audit.core.report import table


def render(contract: Mapping[str, Any], plan: Mapping[str, Any], affected: tuple[str, str]) -> str:
    group, day = contract["group"], plan["date"]
    actions = plan["actions"]
    users = list(plan["models"])
    start, end = affected
    lines = [
        f"# DRAFT — data change notification: feature group `{group}` ({day} audit)",
        "",
        "Status: draft for review by the owners below; not sent.",
        "",
        f"- To: consumers of `{group}`: "
        + (", ".join(f"{m['name']}@v{m['version']} (tier {m['risk_tier']}, {m['owner']})" for m in users)
           or ", ".join(contract["consuming_models"]) or "no registered consumer"),
        f"- From: {', '.join(contract['owners']) or 'the feature owners'}",
        "",
    ]
    if not actions:
        return "\n".join([*lines, f"The audit of {day} found nothing that needs a change. No action for consumers.", ""])
    lines += [
        "## What happened",
        "",
        f"The audit of {day} found {len(plan['findings'])} findings in `{group}`, traced to {len(actions)} defects. "
        f"Online values may have differed from training values between {start} and {end} (the audited window).",
        "",
        table(["feature", "defect", "severity", "impacted models", "fix"],
              [[a["feature"], a["kind"].replace("_", " "), a["severity"], ", ".join(a["impacted_models"]) or "—",
                a["title"]] for a in actions]),
        "## Expected downtime",
        "",
        *[f"- {text[0].upper()}{text[1:]} ({', '.join(ids)})." for text, ids in _by_downtime(actions)],
        f"- Backfills rewrite the online values of `{contract['feature_view']}` for {start} … {end} in place; "
        f"reads continue during the backfill and may return old or new values until it completes.",
        "",
        "## Schema changes",
        "",
    ]
    changes = [a for a in actions if a.get("contract_change") or a["type"] == "feature_definition_patch"]
    for a in changes:
        cc = a.get("contract_change")
        if cc:
            lines.append(f"- Contract v{cc['from_version']} → v{cc['to_version']} ({cc['bump']}"
                         f"{', breaking' if cc['breaking'] else ', backward compatible'}"
                         + (f", deprecation window {cc['deprecation_window']}" if cc["deprecation_window"] else "")
                         + "): " + "; ".join(cc["schema_changes"]) + ".")
        else:
            lines.append(f"- Feature view `{contract['feature_view']}`: `{a['feature']}` is served again.")
    if not changes:
        lines.append("- None: every fix keeps the contract as it is.")
    lines += ["", "## Action items for consumers", ""]
    todo = [f"- [ ] {m['owner']}: re-evaluate {m['name']}@v{m['version']} on predictions made between {start} and "
            f"{end} once the backfill is verified" + (" (it regressed in the window)." if m["regressed"] else ".")
            for m in users if any(f"{m['name']}@v{m['version']}" in a["impacted_models"] for a in actions)]
    for a in changes:
        for step in (a.get("contract_change") or {}).get("migration", []):
            todo.append(f"- [ ] {step}.")
    if any(a["type"] == "retrain_or_rebaseline" for a in actions):
        todo.append("- [ ] Model owners: review retraining on recent data (population drift, not a pipeline defect).")
    todo.append("- [ ] Reply to the owners with any consumer not listed above.")
    lines += todo
    lines += ["", "## Timeline", "",
              "Each fix ships after its approvals (tickets/), behind a canary: "
              + "; ".join(f"{a['id']}: done by {a['timeline'][-1]['day']}" for a in actions)
              + " (T = approval day).", ""]
    return "\n".join(lines)


def _by_downtime(actions: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for a in actions:
        groups.setdefault(a["downtime"], []).append(a["id"])
    return sorted(groups.items())
