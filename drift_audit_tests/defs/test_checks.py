"""Gate results become one asset check per gate, with observed/threshold of the worst result."""

from __future__ import annotations

from dagster import AssetCheckSeverity

from drift_audit.defs.checks import QUALITY_CHECKS, gate_results


def _gate(gate, feature, side, passed, observed, threshold):
    return {"gate": gate, "feature": feature, "side": side, "passed": passed, "observed": observed,
            "threshold": threshold, "detail": {}}


def test_one_check_per_gate_with_the_worst_result_and_tier_severity():
    rows = [_gate("out_of_range", "a", "us", False, 0.2, 0.01), _gate("out_of_range", "b", "us", False, 0.5, 0.01),
            _gate("out_of_range", "c", "eu", True, 0.0, 0.01), _gate("freshness", "*", "us", True, 10.0, 100.0)]
    for tier, severity in ((1, AssetCheckSeverity.ERROR), (2, AssetCheckSeverity.WARN), (3, AssetCheckSeverity.WARN)):
        checks = {c.check_name: c for c in gate_results(rows, tier)}
        assert list(checks) == list(QUALITY_CHECKS)
        oor = checks["out_of_range"]
        assert oor.passed is False and oor.severity == severity
        assert oor.metadata["observed"].value == 0.5 and oor.metadata["threshold"].value == 0.01
        assert oor.metadata["failing"].value == ["a@us", "b@us"]
        assert checks["freshness"].passed and checks["freshness"].metadata["observed"].value == 10.0
        assert checks["expect_type"].passed and checks["expect_type"].metadata["evaluated"].value == 0
