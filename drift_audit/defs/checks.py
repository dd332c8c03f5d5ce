"""Asset-check names (stable: the UI, alerts and docs refer to them) and how gate results become checks.

Dagster only lets an asset carry checks on itself, so the quality gates are checks of `quality_gates`
(the asset that evaluates them); each check's metadata names the sample it judges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec

CONTRACT_CONFORMANCE = "contract_conformance"
DRIFT_THRESHOLDS = "drift_thresholds"
ROW_LEVEL_PARITY = "row_level_parity"
ONLINE_KEY_COVERAGE = "online_key_coverage"
FRESHNESS = "freshness"
NULL_RATE_INCREASE = "null_rate_increase"
OUT_OF_RANGE = "out_of_range"
ROW_COUNT_CHANGE = "row_count_change"
EXPECT_NOT_NULL = "expect_not_null"
EXPECT_IN_RANGE = "expect_in_range"
EXPECT_IN_SET = "expect_in_set"
EXPECT_TYPE = "expect_type"
EXPECT_UNIQUE_KEY = "expect_unique_key"

QUALITY_CHECKS = (FRESHNESS, NULL_RATE_INCREASE, OUT_OF_RANGE, ROW_COUNT_CHANGE, EXPECT_NOT_NULL, EXPECT_IN_RANGE,
                  EXPECT_IN_SET, EXPECT_TYPE, EXPECT_UNIQUE_KEY)
JUDGES = {FRESHNESS: "online_sample", NULL_RATE_INCREASE: "online_sample", ROW_COUNT_CHANGE: "offline_sample"}


def specs(asset: str, names: Sequence[str]) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=asset) for name in names]


def severity(tier: int) -> AssetCheckSeverity:
    """ERROR for tier-1 breaches, WARN below."""
    return AssetCheckSeverity.ERROR if tier == 1 else AssetCheckSeverity.WARN


def result(name: str, passed: bool, tier: int, observed: Any, threshold: Any, **extra: Any) -> AssetCheckResult:
    return AssetCheckResult(check_name=name, passed=bool(passed), severity=severity(tier),
                            metadata={"observed": observed, "threshold": threshold, "risk_tier": tier, **extra})


def gate_results(gates: Iterable[dict[str, Any]], tier: int) -> list[AssetCheckResult]:
    """One check per gate: it fails if any of its results (per feature and side) fails; observed and
    threshold are those of the worst result (the largest observed/threshold excess)."""
    out = []
    by_gate: dict[str, list[dict[str, Any]]] = {}
    for g in gates:
        by_gate.setdefault(g["gate"], []).append(g)
    for name in QUALITY_CHECKS:
        rows = by_gate.get(name, [])
        failed = [g for g in rows if not g["passed"]]
        worst = max(failed or [g for g in rows if g["observed"] is not None], key=_excess, default=None)
        out.append(result(
            name, not failed, tier, worst["observed"] if worst else None, worst["threshold"] if worst else None,
            judges=JUDGES.get(name, "offline_sample, online_sample"), evaluated=len(rows), failed=len(failed),
            worst=f"{worst['feature']}@{worst['side']}" if worst else None,
            failing=sorted(f"{g['feature']}@{g['side']}" for g in failed)[:20]))
    return out


def _excess(gate: dict[str, Any]) -> float:
    observed = abs(gate["observed"]) if gate["observed"] is not None else 0.0
    return observed - (gate["threshold"] or 0.0)
