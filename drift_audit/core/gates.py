"""Quality gates: the contract's Great Expectations results, freshness, null-ratio increase, out-of-range
rate and row-count change (docs/quality-gates.md).

Each gate returns `GateResult`s with `observed` and `threshold` (they become Dagster asset checks, one
per gate) and every failed result becomes a finding. Thresholds come from the tier table (core.tiers).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drift_audit.core.contract import Contract
from drift_audit.core.findings import SEVERITIES, Finding, severity_for

# Great Expectations expectation -> (gate name, finding kind)
EXPECTATION_GATES = {
    "expect_column_values_to_not_be_null": ("expect_not_null", "nullability_violation"),
    "expect_column_values_to_be_between": ("expect_in_range", "out_of_range"),
    "expect_column_values_to_be_in_set": ("expect_in_set", "allowed_value_drift"),
    "expect_column_values_to_be_of_type": ("expect_type", "type_mismatch"),
    "expect_compound_columns_to_be_unique": ("expect_unique_key", "duplicate_rows"),
}
GATE_KINDS = {"freshness": "stale_online_values", "null_rate_increase": "null_rate_increase",
              "out_of_range": "out_of_range", "row_count_change": "row_count_change",
              **dict(EXPECTATION_GATES.values())}
# Gates whose breach is grave (the tier's higher severity); a strict contract expectation that the tier
# tolerance still accepts (say, a few values out of range) is the milder one.
GRAVE = frozenset({"freshness", "out_of_range", "null_rate_increase", "expect_not_null", "expect_in_set",
                   "expect_type"})


@dataclass(frozen=True)
class GateResult:
    gate: str  # freshness | null_rate_increase | out_of_range | row_count_change | expect_* (GATE_KINDS)
    feature: str
    side: str
    passed: bool
    observed: float | None
    threshold: float | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "feature": self.feature, "side": self.side, "passed": self.passed,
                "observed": self.observed, "threshold": self.threshold, "detail": self.detail}


def freshness(per_source: Sequence[Mapping[str, Any]], sla_s: float, sla_from: str) -> list[GateResult]:
    """Per online source (one per region): how far the served values lag behind the partition end.

    Each online value is its entity's newest; the gate fails when the median lag is beyond the SLA, i.e.
    most of what the source serves is stale. The newest value's lag and the p95 are reported beside it."""
    out = []
    for src in per_source:
        median = src.get("median_lag_s")
        passed = median is not None and median <= sla_s
        out.append(GateResult("freshness", "*", src["_source"], passed, _f(median), sla_s, {
            "values": src["values"], "sla_from": sla_from, "newest_lag_s": _f(src.get("min_lag_s")),
            "p95_lag_s": _f(src.get("p95_lag_s")), "max_lag_s": _f(src.get("max_lag_s")),
            "mean_behind_offline_s": _f(src.get("mean_behind_offline_s")),
            "newest_value": _ts(src.get("newest")), "oldest_value": _ts(src.get("oldest"))}))
    return out


def null_rate_increase(contract: Contract, checks: Mapping[tuple[str, str], Any], limit: float) -> list[GateResult]:
    """Null share of each online source minus the offline partition's, per feature, vs the tier limit."""
    out = []
    for feat in contract.features:
        off = checks.get((feat.name, "offline"))
        if off is None or not off.rows:
            continue
        for (name, side), chk in sorted(checks.items()):
            if name != feat.name or side == "offline" or not chk.rows:
                continue
            ref, cur = off.nulls / off.rows, chk.nulls / chk.rows
            out.append(GateResult("null_rate_increase", feat.name, side, cur - ref <= limit, round(cur - ref, 6),
                                  limit, {"null_rate_offline": round(ref, 6), "null_rate_online": round(cur, 6),
                                          "rows_offline": off.rows, "rows_online": chk.rows}))
    return out


def out_of_range(contract: Contract, checks: Mapping[tuple[str, str], Any], limit: float) -> list[GateResult]:
    """Share of non-null values outside the contract's [min, max], per feature and side."""
    out = []
    for (feature, side), check in sorted(checks.items()):
        feat = contract.feature(feature)
        if feat.kind != "numeric" or (feat.min is None and feat.max is None):
            continue
        values = check.rows - check.nulls
        bad = check.below_min + check.above_max
        share = bad / values if values else 0.0
        out.append(GateResult("out_of_range", feature, side, share <= limit, round(share, 6), limit, {
            "below_min": check.below_min, "above_max": check.above_max, "values": values,
            "min": feat.min, "max": feat.max}))
    return out


def row_count_change(rows: int, history: Sequence[int], limit: float, min_history: int = 3) -> GateResult:
    """Offline rows of this partition vs the median of earlier partitions of the same group."""
    if len(history) < min_history:
        return GateResult("row_count_change", "*", "offline", True, None, limit,
                          {"rows": rows, "history": list(history), "note": f"needs {min_history} earlier partitions"})
    median = statistics.median(history)
    change = (rows - median) / median if median else (0.0 if rows == 0 else 1.0)
    return GateResult("row_count_change", "*", "offline", abs(change) <= limit, round(change, 6), limit,
                      {"rows": rows, "median_history": median, "history": list(history)})


def expectations(side: str, validation: Mapping[str, Any]) -> list[GateResult]:
    """One result per Great Expectations expectation: observed = share of unexpected values (type: 0/1)."""
    out = []
    for r in validation["results"]:
        if r["expectation"] not in EXPECTATION_GATES:
            continue
        gate = EXPECTATION_GATES[r["expectation"]][0]
        kwargs = r["kwargs"]
        feature = kwargs.get("column") or "*"
        mostly = kwargs.get("mostly")
        allowed = round(1 - mostly, 6) if mostly is not None else 0.0
        if r["unexpected_percent"] is not None:
            observed: float | None = round(r["unexpected_percent"] / 100, 6)
        else:
            observed = 0.0 if r["success"] else 1.0
        detail = {"expectation": r["expectation"], "kwargs": kwargs, "unexpected_count": r["unexpected_count"],
                  "element_count": r["element_count"], "unexpected_percent": r["unexpected_percent"]}
        if r.get("exception"):
            detail["exception"] = r["exception"]
        if "unexpected_examples" in r:
            detail["unexpected_examples"] = r["unexpected_examples"]
        out.append(GateResult(gate, feature, side, bool(r["success"]), observed, allowed, detail))
    return out


def findings_from(contract: Contract, results: Sequence[GateResult]) -> list[Finding]:
    """One finding per (feature, kind): every failed result, its side a source, its gate in `checks`."""
    merged: dict[tuple[str, str], Finding] = {}
    for r in results:
        if r.passed:
            continue
        kind = GATE_KINDS[r.gate]
        sev = severity_for(contract.risk_tier, r.gate in GRAVE)
        evidence = {"gate": r.gate, "side": r.side, "observed": r.observed, "threshold": r.threshold, **r.detail}
        old = merged.get((r.feature, kind))
        if old is None:
            merged[(r.feature, kind)] = Finding(contract.group, r.feature, kind, sev,
                                                {**evidence, "checks": [_check_ref(r)]}, "quality_gates", (r.side,))
            continue
        worse = min(sev, old.severity, key=SEVERITIES.index)
        merged[(r.feature, kind)] = old.with_(
            severity=worse, sources=tuple(sorted({*old.sources, r.side})),
            evidence={**old.evidence, "checks": [*old.evidence["checks"], _check_ref(r)]})
    return [merged[k] for k in sorted(merged)]


def _check_ref(r: GateResult) -> dict[str, Any]:
    return {"gate": r.gate, "side": r.side, "observed": r.observed, "threshold": r.threshold}


def _f(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _ts(value: Any) -> str | None:
    return None if value is None else str(value)
