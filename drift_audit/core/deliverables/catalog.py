"""catalog/: one feature catalog entry per contract feature — lineage, ownership, validation status.

Lineage is Mermaid source: offline source → feature view → online store (via the serving code) and
training set (via the batch code) → each consuming model. `entries.json` holds the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift_audit.core.report import table


def consumers(group: str, feature: str, models: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    wanted = {f"{group}.{feature}", f"{group}.*"}
    return [m for m in models if wanted & set(m["features"])]


def _label(text: str) -> str:
    return text.replace('"', "'")


def lineage(group: str, feature: str, sources: Mapping[str, Any], models: Sequence[Mapping[str, Any]]) -> str:
    batch, serving = sources.get("offline_code"), sources.get("online_code")
    lines = [
        "flowchart LR",
        f'  src[("offline source<br/>{_label(sources["offline"])}")] --> fv["Feast feature view<br/>'
        f'{_label(sources["feature_view"])}: {feature}"]',
        f'  fv -->|"{_label(f"materialize; serving code {serving}" if serving else "materialize")}"| online[("online '
        f'store<br/>{_label(sources["online_store"])}")]',
        f'  fv -->|"{_label(f"historical retrieval; batch code {batch}" if batch else "historical retrieval")}"| '
        f'training[("training set<br/>offline store")]',
    ]
    for i, log in enumerate(sources.get("logs", [])):
        lines.append(f'  online --> log{i}["serving log<br/>{_label(log)}"]')
    for i, m in enumerate(models):
        lines += [f'  training --> m{i}["model {m["name"]}@v{m["version"]}<br/>tier {m["risk_tier"]}"]',
                  f"  online --> m{i}"]
    return "\n".join(lines)


def _concerns(finding: Mapping[str, Any], feature: str) -> bool:
    """A finding on the feature, or a group-wide one that reaches it (a dependency only the features it names)."""
    if finding["feature"] != "*":
        return bool(finding["feature"] == feature)
    if finding["kind"] == "dependency_version_mismatch":
        return feature in finding["evidence"].get("drifted_features_in_online_code", [])
    return True


def entries(snapshot: Mapping[str, Any], plan: Mapping[str, Any], sources: Mapping[str, Any],
            report_sha256: str) -> list[dict[str, Any]]:
    contract = snapshot["contract"]
    group = contract["group"]
    out = []
    for feat in contract["features"]:
        name = feat["name"]
        found = [f for f in plan["findings"] if f["severity"] != "info" and _concerns(f, name)]
        users = consumers(group, name, plan["models"])
        out.append({
            "feature": f"{group}.{name}", "description": feat["description"] or None,
            "type": feat["type"], "proto_type": feat["proto_type"],
            "unit": feat["unit"] or None, "timezone": feat["timezone"] or None, "window": feat["window"] or None,
            "aggregation": feat["aggregation"] or None, "pii_class": feat["pii_class"] or None,
            "tokenization": feat["tokenization"] or None,
            "owners": [feat["owner"]] if feat["owner"] else list(contract["owners"]),
            "contract": f"{contract['file']}:{feat['line']}", "contract_version": contract["version"],
            "contract_commit": snapshot["git"]["commit"],
            "consuming_models": [f"{m['name']}@v{m['version']}" for m in users],
            "validation_status": "failing" if found else "passing",
            "open_findings": sorted(f"{f['kind']} ({f['severity']})" for f in found),
            "last_audit": {"date": plan["date"], "report": "../report.md", "report_sha256": report_sha256},
            "lineage_mermaid": lineage(group, name, sources, users),
        })
    return out


def markdown(entry: Mapping[str, Any]) -> str:
    rows = [["description", entry["description"]], ["type", f"{entry['type']} (proto `{entry['proto_type']}`)"],
            ["unit / timezone / window / aggregation",
             " / ".join(str(entry[k] or "–") for k in ("unit", "timezone", "window", "aggregation"))],
            ["PII", f"{entry['pii_class']} (tokenization {entry['tokenization']})" if entry["pii_class"] else "no"],
            ["owners", ", ".join(entry["owners"])],
            ["contract", f"`{entry['contract']}` v{entry['contract_version']} at commit "
                         f"`{(entry['contract_commit'] or 'none')[:12]}`"],
            ["consuming models", ", ".join(entry["consuming_models"]) or "none registered"],
            ["validation status", entry["validation_status"] + (": " + ", ".join(entry["open_findings"])
                                                                 if entry["open_findings"] else "")],
            ["last audit", f"{entry['last_audit']['date']} ([report]({entry['last_audit']['report']}), sha256 "
                           f"`{entry['last_audit']['report_sha256'][:16]}`)"]]
    return "\n".join([f"# {entry['feature']}", "", table(["field", "value"], rows), "## Lineage", "",
                      "```mermaid", entry["lineage_mermaid"], "```", ""])
