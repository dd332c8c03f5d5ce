"""Asset-check names (stable: the UI, alerts and docs refer to them) and how gate results become checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec

CONTRACT_CONFORMANCE = "contract_conformance"
DRIFT_THRESHOLDS = "drift_thresholds"
ROW_LEVEL_PARITY = "row_level_parity"
FRESHNESS = "freshness"
NULL_RATE_INCREASE = "null_rate_increase"
OUT_OF_RANGE = "out_of_range"
EXPECTATIONS = "expectations"
ROW_COUNT_CHANGE = "row_count_change"
ONLINE_KEY_COVERAGE = "online_key_coverage"

QUALITY_CHECKS = (FRESHNESS, NULL_RATE_INCREASE, OUT_OF_RANGE, EXPECTATIONS, ROW_COUNT_CHANGE)


def specs(asset: str, names: Sequence[str]) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=asset) for name in names]


def severity(tier: int) -> AssetCheckSeverity:
    """ERROR for tier-1 breaches, WARN below."""
    return AssetCheckSeverity.ERROR if tier == 1 else AssetCheckSeverity.WARN


def result(name: str, passed: bool, tier: int, observed: Any, threshold: Any, **extra: Any) -> AssetCheckResult:
    return AssetCheckResult(check_name=name, passed=bool(passed), severity=severity(tier),
                            metadata={"observed": observed, "threshold": threshold, "risk_tier": tier, **extra})


def gate_results(gates: Iterable[dict[str, Any]], tier: int) -> list[AssetCheckResult]:
    """One check per gate kind: it fails if any of its results (per feature and side) fails."""
    out = []
    by_gate: dict[str, list[dict[str, Any]]] = {}
    for g in gates:
        by_gate.setdefault(g["gate"], []).append(g)
    for name in QUALITY_CHECKS:
        rows = by_gate.get(name, [])
        failed = [g for g in rows if not g["passed"]]
        worst = max((g for g in rows if g["observed"] is not None), key=lambda g: abs(g["observed"]), default=None)
        out.append(result(name, not failed, tier, worst["observed"] if worst else None,
                          worst["threshold"] if worst else None, evaluated=len(rows), failed=len(failed),
                          failing=[f"{g['feature']}@{g['side']}" for g in failed][:20]))
    return out
