"""Quality gates beyond Great Expectations: freshness, null-ratio increase, out-of-range rate, row count.

Each gate returns a `GateResult` with `observed` and `threshold` (these become Dagster asset checks) and,
when it fails, a finding. Thresholds come from the tier table (core.tiers).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drift_audit.core.contract import Contract
from drift_audit.core.findings import Finding, severity_for


@dataclass(frozen=True)
class GateResult:
    gate: str  # freshness | null_rate_increase | out_of_range | row_count_change | expectations
    feature: str
    side: str
    passed: bool
    observed: float | None
    threshold: float | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "feature": self.feature, "side": self.side, "passed": self.passed,
                "observed": self.observed, "threshold": self.threshold, "detail": self.detail}


def freshness(contract: Contract, per_source: Sequence[Mapping[str, Any]]) -> list[GateResult]:
    """Lag of the newest and median online value behind the partition end, per source, vs the SLA.

    The gate fails when the median value is older than the SLA (most of what is served is stale)."""
    sla = contract.freshness_sla_seconds
    out = []
    for src in per_source:
        median = src.get("median_lag_s")
        passed = sla is None or median is None or median <= sla
        out.append(GateResult("freshness", "*", src["_source"], passed, _f(median), sla, {
            "values": src["values"], "max_lag_s": _f(src.get("max_lag_s")),
            "mean_behind_offline_s": _f(src.get("mean_behind_offline_s")),
            "newest_value": str(src.get("newest")), "oldest_value": str(src.get("oldest"))}))
    return out


def null_rate_increase(contract: Contract, drift_rows: Sequence[Mapping[str, Any]], limit: float) -> list[GateResult]:
    out = []
    for row in drift_rows:
        ref, cur = row.get("null_rate_ref") or 0.0, row.get("null_rate_cur") or 0.0
        out.append(GateResult("null_rate_increase", row["name"], row["side"], cur - ref <= limit,
                              round(cur - ref, 6), limit, {"null_rate_offline": ref, "null_rate_online": cur}))
    return out


def out_of_range(contract: Contract, checks: Mapping[tuple[str, str], Any], limit: float) -> list[GateResult]:
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


def findings_from(contract: Contract, results: Sequence[GateResult]) -> list[Finding]:
    kinds = {"freshness": "stale_online_values", "null_rate_increase": "null_rate_increase",
             "out_of_range": "out_of_range", "row_count_change": "row_count_change",
             "expectations": "expectation_failed"}
    out = []
    for r in results:
        if r.passed:
            continue
        grave = r.gate in ("freshness", "out_of_range")
        out.append(Finding(contract.group, r.feature, kinds[r.gate], severity_for(contract.risk_tier, grave),
                           {"gate": r.gate, "observed": r.observed, "threshold": r.threshold, **r.detail},
                           "quality_gates", (r.side,)))
    return out


def _f(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
