"""Root causes: which finding explains which, ranked by confidence (docs/outputs.md#root-causes).

Findings are causes (a mechanism: a unit factor, a timezone shift, stale materialization, an untokenized
PII feature ...) or symptoms (skew, drift, out-of-range values, null-rate increases ...). A cause explains
the symptoms of its own feature; a group-wide cause (feature "*") explains the symptoms of its group
(a dependency mismatch only those of the features its evidence names). Each symptom is linked to its
most confident candidate cause; the others are kept as ranked alternatives. Causes are never linked to
each other: two mechanisms on one feature are two defects, each with its own action.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drift_audit.core.findings import Finding

# Cause kinds, strongest first (the tie-break), with the confidence used when the detector reports none.
CAUSES: dict[str, float] = {
    "pii_untokenized": 0.95, "timezone_mismatch": 0.9, "unit_mismatch": 0.9, "window_mismatch": 0.9,
    "aggregation_mismatch": 0.9, "null_handling_mismatch": 0.9, "missing_online": 0.95, "missing_offline": 0.95,
    "type_mismatch": 0.9, "type_widening": 0.9, "allowed_value_drift": 0.8, "stale_online_values": 0.8,
    "population_drift": 0.7, "late_arriving_data": 0.6, "duplicate_rows": 0.6, "feature_definition_mismatch": 0.6,
    "metadata_mismatch": 0.5, "missing_online_keys": 0.8, "empty_partition": 0.9,
    "dependency_version_mismatch": 0.5,
}
# Group-wide causes explain a feature's symptom less surely than a cause found on the feature itself.
GROUP_WIDE_DISCOUNT = 0.8


def is_cause(f: Finding) -> bool:
    return f.kind in CAUSES


def explains(cause: Finding, symptom: Finding) -> tuple[float, str] | None:
    """(confidence, basis) that `cause` explains `symptom`, or None when it cannot."""
    if not is_cause(cause) or is_cause(symptom) or cause.feature_group != symptom.feature_group:
        return None
    if cause.feature == "*":
        named = cause.evidence.get("drifted_features_in_online_code")
        if cause.kind == "dependency_version_mismatch" and symptom.feature not in (named or ()):
            return None
    elif cause.feature != symptom.feature:
        return None
    confidence, basis = _own_confidence(cause, symptom)
    if cause.feature == "*" and symptom.feature != "*":
        confidence *= GROUP_WIDE_DISCOUNT
        basis += f", x{GROUP_WIDE_DISCOUNT:g} as a group-wide cause"
    return round(confidence, 4), basis


def _own_confidence(cause: Finding, symptom: Finding) -> tuple[float, str]:
    ev = cause.evidence
    if cause.kind == "allowed_value_drift" and ev.get("share"):
        # the share of values outside the allowed set vs the share of mismatching pairs it should explain
        side = (symptom.evidence.get("by_source") or {}).get(ev.get("side", ""), {})
        mismatch = side.get("mismatch_share")
        if mismatch:
            return min(1.0, ev["share"] / mismatch), "share of disallowed values / share of mismatching pairs"
    if cause.kind == "pii_untokenized" and ev.get("values"):
        return ev.get("untokenized_values", 0) / ev["values"], "share of untokenized values"
    if cause.confidence is not None:
        return cause.confidence, f"measured by {cause.detected_by}"
    return CAUSES[cause.kind], f"prior for {cause.kind}"


def link(findings: Sequence[Finding]) -> list[Finding]:
    """Each symptom points (`root_cause`) to its most confident cause; causes and lone symptoms to none."""
    causes = [f for f in findings if is_cause(f)]
    out = []
    for f in findings:
        ranked = candidates(f, causes)
        out.append(f.with_(root_cause=ranked[0][0].id if ranked else None))
    return out


def candidates(symptom: Finding, causes: Sequence[Finding]) -> list[tuple[Finding, float, str]]:
    """Causes that can explain `symptom`, most confident first (then kind strength, then id)."""
    found = [(c, *e) for c in causes if (e := explains(c, symptom)) is not None]
    kinds = list(CAUSES)
    return sorted(found, key=lambda t: (-t[1], kinds.index(t[0].kind), t[0].id))


def ranked(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The root causes shared by findings, most confident first, each with its evidence and alternatives."""
    causes = [f for f in findings if is_cause(f)]
    by_id = {f.id: f for f in findings}
    rows: dict[str, dict[str, Any]] = {}
    for symptom in findings:
        cands = candidates(symptom, causes)
        if not cands or symptom.root_cause != cands[0][0].id:
            continue
        cause, confidence, basis = cands[0]
        row = rows.setdefault(cause.id, {"root_cause": cause.id, "kind": cause.kind, "feature": cause.feature,
                                         "severity": cause.severity, "confidence": confidence, "basis": basis,
                                         "explains": [], "alternatives": {}, "evidence": cause.evidence})
        row["explains"].append(symptom.id)
        row["confidence"] = max(row["confidence"], confidence)
        for other, conf, other_basis in cands[1:]:
            alt = row["alternatives"].get(other.id)
            if alt is None or conf > alt["confidence"]:
                row["alternatives"][other.id] = {"cause": other.id, "confidence": conf, "basis": other_basis}
    out = []
    for row in rows.values():
        row["explains"] = sorted(row["explains"])
        row["alternatives"] = sorted(row["alternatives"].values(), key=lambda a: (-a["confidence"], a["cause"]))
        out.append(row)
    out.sort(key=lambda r: (-r["confidence"], -by_id[r["root_cause"]].score, r["root_cause"]))
    for i, row in enumerate(out, 1):
        row["rank"] = i
    return out
