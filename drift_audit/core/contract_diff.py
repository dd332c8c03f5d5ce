"""Diff a pinned contract against the schemas and values observed offline and online.

Vocabulary as in Feast's registry diff: each feature gets one row with a transition per side
(UNCHANGED / UPDATE / DELETE / CREATE), and every discrepancy becomes a finding with counts as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drift_audit.core.contract import Contract, Feature
from drift_audit.core.findings import Finding, severity_for

WIDENINGS = {("int32", "int64"), ("float32", "float64")}
METADATA = ("unit", "timezone")  # declared by Arrow field metadata / Feast Field tags
_ARROW = {
    "double": "float64", "float": "float32", "halffloat": "float32", "int8": "int32", "int16": "int32",
    "int32": "int32", "int64": "int64", "uint8": "int32", "uint16": "int32", "uint32": "int64",
    "uint64": "int64", "bool": "bool", "string": "string", "large_string": "string", "binary": "bytes",
    "large_binary": "bytes", "date32[day]": "date",
}
_SPARK = {"double": "float64", "float": "float32", "int": "int32", "bigint": "int64", "smallint": "int32",
          "tinyint": "int32", "boolean": "bool", "string": "string", "binary": "bytes", "timestamp": "timestamp"}


def logical_type(observed: str) -> str:
    """Arrow or Spark type name -> our logical type (docs/contracts.md)."""
    t = observed.strip().lower()
    if t.startswith("timestamp"):
        return "timestamp"
    if t.startswith("dictionary<values=string") or t.startswith("dictionary<values=large_string"):
        return "string"
    return _ARROW.get(t) or _SPARK.get(t) or t


@dataclass(frozen=True)
class Observed:
    """What one side looks like: its schema and its value checks (from spark.observe)."""

    side: str  # "offline" or an online source label
    schema: Mapping[str, str]  # column -> logical type
    checks: Mapping[str, Any]  # feature -> ValueCheck
    declared_by: str = ""  # e.g. "feast feature view transactions" or a parquet path
    metadata: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> {unit, timezone}


def diff_contract(contract: Contract, sides: list[Observed], fv_ttl_seconds: float | None = None
                  ) -> tuple[list[dict[str, Any]], list[Finding]]:
    """(rows of the per-feature diff table, findings)."""
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    tier = contract.risk_tier
    g = contract.group

    def add(feature: str, kind: str, grave: bool, evidence: dict[str, Any], sources: tuple[str, ...]) -> None:
        findings.append(Finding(g, feature, kind, severity_for(tier, grave), evidence, "contract_diff", sources))

    for feat in contract.features:
        row: dict[str, Any] = {"feature": feat.name, "contract_type": feat.type, "sides": {}}
        for side in sides:
            observed = side.schema.get(feat.name)
            transition = "DELETE" if observed is None else ("UNCHANGED" if observed == feat.type else "UPDATE")
            row["sides"][side.side] = {"type": observed, "transition": transition}
            if observed is None:
                kind = "missing_offline" if side.side == "offline" else "missing_online"
                add(feat.name, kind, True, {"side": side.side, "declared_by": side.declared_by,
                                            "contract": f"{contract.file}:{feat.line}"}, (side.side,))
            elif observed != feat.type:
                widening = (feat.type, observed) in WIDENINGS
                check = side.checks.get(feat.name)
                evidence = {"side": side.side, "contract_type": feat.type, "observed_type": observed,
                            "types_by_side": {s.side: s.schema.get(feat.name) for s in sides},
                            "contract": f"{contract.file}:{feat.line}", "declared_by": side.declared_by}
                if check is not None and feat.type in ("int32", "int64"):
                    evidence["non_integral_values"] = check.non_integral
                add(feat.name, "type_widening" if widening else "type_mismatch", not widening, evidence,
                    (side.side,))
            meta = side.metadata.get(feat.name, {})
            mismatches = {k: {"contract": getattr(feat, k), "observed": meta[k]} for k in METADATA
                          if getattr(feat, k) and meta.get(k) and meta[k] != getattr(feat, k)}
            if mismatches:
                add(feat.name, "metadata_mismatch", True, {
                    "side": side.side, "declared_by": side.declared_by, "mismatches": mismatches,
                    "contract": f"{contract.file}:{feat.line}"}, (side.side,))
            check = side.checks.get(feat.name)
            if check is not None:
                findings += _value_findings(contract, feat, check)
        rows.append(row)
    declared = set(contract.feature_names) | set(contract.entity_keys) | {contract.event_timestamp,
                                                                         contract.created_timestamp}
    for side in sides:
        for col in sorted(set(side.schema) - declared):
            if col.startswith("_") or col in ("request_ts",):
                continue
            kind = "extra_offline" if side.side == "offline" else "extra_online"
            findings.append(Finding(g, col, kind, "info", {"side": side.side, "observed_type": side.schema[col]},
                                    "contract_diff", (side.side,)))
    if fv_ttl_seconds is not None and contract.ttl_seconds is not None and fv_ttl_seconds != contract.ttl_seconds:
        add("*", "metadata_mismatch", False, {"field": "ttl", "contract_seconds": contract.ttl_seconds,
                                              "feature_view_seconds": fv_ttl_seconds}, ())
    return rows, findings


def _value_findings(contract: Contract, feat: Feature, check: Any) -> list[Finding]:
    g, tier, out = contract.group, contract.risk_tier, []
    where = f"{contract.file}:{feat.line}"
    non_null = check.rows - check.nulls
    if check.not_allowed:
        evidence: dict[str, Any] = {
            "side": check.side, "values_not_allowed": check.not_allowed, "values": non_null,
            "share": round(check.not_allowed / non_null, 6) if non_null else None,
            "allowed_values": list(feat.allowed_values), "contract": where}
        if not feat.is_pii:
            evidence["examples"] = [{"value": v, "count": c} for v, c in check.not_allowed_examples]
        out.append(Finding(g, feat.name, "allowed_value_drift", severity_for(tier, True), evidence,
                           "contract_diff", (check.side,)))
    null_ratio = check.nulls / check.rows if check.rows else 0.0
    limit = feat.max_null_ratio if feat.nullable else 0.0
    if check.nulls and (limit is not None and null_ratio > limit):
        out.append(Finding(g, feat.name, "nullability_violation", severity_for(tier, not feat.nullable), {
            "side": check.side, "nulls": check.nulls, "rows": check.rows, "null_ratio": round(null_ratio, 6),
            "nullable": feat.nullable, "max_null_ratio": feat.max_null_ratio, "contract": where},
            "contract_diff", (check.side,)))
    if feat.is_pii and check.untokenized:
        out.append(Finding(g, feat.name, "pii_untokenized", severity_for(min(tier, 1), True), {
            "side": check.side, "untokenized_values": check.untokenized, "values": non_null,
            "pii_class": feat.pii_class, "declared_tokenization": feat.tokenization or None,
            "contract": where, "note": "counts only: raw values of PII features are never reported"},
            "contract_diff", (check.side,)))
    if check.side != "offline" and check.nulls and not feat.nullable and not feat.default_value:
        out.append(Finding(g, feat.name, "missing_default", severity_for(tier, False), {
            "side": check.side, "missing_values": check.nulls, "rows": check.rows, "contract": where},
            "contract_diff", (check.side,)))
    return out


