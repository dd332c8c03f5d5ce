"""The group's Feast definitions (adapters.feast_repo) against the contract and against each other.

Related views are the contract's feature view and every view serving one of its features (a push or
stream twin). Reported per view: sources, TTL, schema, aggregations, transformation hashes; and problems:
a push/stream source whose timestamp fields, field mapping or landing table disagree with the batch
source training reads; twins that disagree on a feature's type or on the TTL; windows or aggregations
declared in Feast (field tags `window`/`aggregation`, stream aggregations) that differ from the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drift_audit.core.contract import Contract, parse_duration
from drift_audit.core.findings import Finding, severity_for

_SOURCE_KEYS = ("timestamp_field", "created_timestamp_column", "field_mapping")


def report(contract: Contract, repo: Mapping[str, Any]) -> dict[str, Any]:
    """{"feature_view", "views", "on_demand", "declared", "problems"} for the contract's group."""
    names = set(contract.feature_names)
    views = [v for v in repo["feature_views"] if v["name"] == contract.feature_view or names & set(v["schema"])]
    main = next((v for v in views if v["name"] == contract.feature_view), None)
    problems: list[dict[str, Any]] = []
    if main is None:
        problems.append({"feature": "*", "problem": f"feature view {contract.feature_view!r} is not defined in "
                                                    f"{repo['module']}"})
    else:
        for v in views:
            problems += _stream_vs_batch(v, main)
            if v is not main:
                problems += _twin(v, main, names)
    declared = declarations(views, names)
    for feature, decl in sorted(declared.items()):
        feat = contract.feature(feature)
        contract_decl = (_seconds(feat.window), feat.aggregation or None)
        feast_decl = (_seconds(decl["window"]), decl["aggregation"])
        if any(f is not None and c is not None and f != c for f, c in zip(feast_decl, contract_decl, strict=True)):
            problems.append({"feature": feature, "problem": "window or aggregation differs from the contract",
                             "contract": {"window": feat.window or None, "aggregation": feat.aggregation or None},
                             "feast": decl})
    related = {v["name"] for v in views}
    on_demand = [o for o in repo["on_demand_feature_views"] if related & set(o["sources"])]
    return {"feature_view": contract.feature_view, "module": repo["module"], "views": views, "on_demand": on_demand,
            "declared": declared, "problems": problems}


def declarations(views: list[dict[str, Any]], features: set[str]) -> dict[str, dict[str, Any]]:
    """feature -> {window, aggregation, declared_by} from field tags or stream aggregations (first view wins)."""
    out: dict[str, dict[str, Any]] = {}
    for v in sorted(views, key=lambda v: v["name"]):
        for a in v["aggregations"]:
            if a["feature"] in features and a["feature"] not in out:
                out[a["feature"]] = {"window": _duration(a["window_seconds"]), "aggregation": a["function"],
                                     "declared_by": f"{v['type']} {v['name']} aggregation"}
        for feature, tags in v["field_tags"].items():
            if feature in features and feature not in out and ("window" in tags or "aggregation" in tags):
                out[feature] = {"window": tags.get("window"), "aggregation": tags.get("aggregation"),
                                "declared_by": f"{v['type']} {v['name']} field tags"}
    return out


def _stream_vs_batch(view: Mapping[str, Any], main: Mapping[str, Any]) -> list[dict[str, Any]]:
    stream, batch = view["stream_source"], main["batch_source"]
    if stream is None or batch is None:
        return []
    out = []
    where = f"{stream['type']} {stream['name']} of {view['name']}"
    compare_to = stream if stream["type"] != "PushSource" else stream.get("batch_source") or {}
    for key in _SOURCE_KEYS:
        if key in compare_to and compare_to[key] != batch[key]:
            out.append({"feature": "*", "problem": f"{where}: {key} differs from the batch source {batch['name']}",
                        "stream": compare_to[key], "batch": batch[key]})
    landing = stream.get("batch_source")
    if landing is not None and (landing["path"], landing["name"]) != (batch["path"], batch["name"]):
        out.append({"feature": "*", "problem": f"{where}: lands in {landing['name']} ({landing['path']}), "
                                               f"but training reads {batch['name']} ({batch['path']})",
                    "stream": landing["name"], "batch": batch["name"]})
    return out


def _twin(view: Mapping[str, Any], main: Mapping[str, Any], features: set[str]) -> list[dict[str, Any]]:
    out = []
    for feature in sorted(features & set(view["schema"]) & set(main["schema"])):
        if view["schema"][feature] != main["schema"][feature]:
            out.append({"feature": feature, "problem": f"{view['name']} serves it as {view['schema'][feature]}, "
                                                       f"{main['name']} as {main['schema'][feature]}"})
    if view["ttl_seconds"] != main["ttl_seconds"]:
        out.append({"feature": "*", "problem": f"TTL of {view['name']} differs from {main['name']}",
                    "stream": view["ttl_seconds"], "batch": main["ttl_seconds"]})
    return out


def findings(contract: Contract, rep: Mapping[str, Any]) -> list[Finding]:
    """One feature_definition_mismatch per feature ("*" for the view) listing its problems."""
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for p in rep["problems"]:
        by_feature.setdefault(p["feature"], []).append({k: v for k, v in p.items() if k != "feature"})
    return [Finding(contract.group, feature, "feature_definition_mismatch", severity_for(contract.risk_tier, False),
                    {"feature_view": rep["feature_view"], "module": rep["module"], "problems": problems},
                    "transformation_audit") for feature, problems in sorted(by_feature.items())]


def _seconds(window: str | None) -> float | None:
    try:
        return parse_duration(window or "")
    except ValueError:
        return None


def _duration(seconds: float | None) -> str | None:
    if not seconds:
        return None
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
