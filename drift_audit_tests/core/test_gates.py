"""Gate policy without Spark: freshness vs the SLA, row-count history, findings merged per feature and kind."""

from __future__ import annotations

import pytest

from drift_audit.core import gates
from drift_audit_tests import builders as b

CONTRACT = b.contract([b.feature("a", "float64", min=0.0, max=1.0)], tier=2)


def test_freshness_fails_when_the_median_lag_exceeds_the_sla():
    rows = [{"_source": "us", "values": 10, "median_lag_s": 3600.0, "min_lag_s": 60, "max_lag_s": 7200},
            {"_source": "eu", "values": 10, "median_lag_s": 100_000.0, "min_lag_s": 60, "max_lag_s": 200_000},
            {"_source": "ap", "values": 0, "median_lag_s": None}]
    out = {r.side: r for r in gates.freshness(rows, 93_600.0, "contract")}
    assert out["us"].passed and not out["eu"].passed and not out["ap"].passed  # no values: nothing fresh
    assert out["eu"].observed == 100_000.0 and out["eu"].threshold == 93_600.0
    assert out["eu"].detail["newest_lag_s"] == 60


@pytest.mark.parametrize(("rows", "history", "passed", "observed"), [
    (100, [200, 210, 190], False, -0.5), (205, [200, 210, 190], True, 0.025), (900, [200, 200], True, None),
    (0, [0, 0, 0], True, 0.0),
])
def test_row_count_change_against_the_median_of_earlier_partitions(rows, history, passed, observed):
    r = gates.row_count_change(rows, history, 0.3)
    assert r.passed is passed and r.observed == (pytest.approx(observed) if observed is not None else None)


def test_findings_are_merged_per_feature_and_kind_with_the_worse_severity():
    results = [
        gates.GateResult("expect_in_range", "a", "offline", False, 0.0005, 0.0, {}),  # strict contract: mild
        gates.GateResult("out_of_range", "a", "us", False, 0.2, 0.005, {"below_min": 0}),  # beyond the tier: grave
        gates.GateResult("out_of_range", "a", "eu", True, 0.0, 0.005, {}),
    ]
    (f,) = gates.findings_from(CONTRACT, results)
    assert (f.kind, f.severity, f.sources) == ("out_of_range", "high", ("offline", "us"))
    assert [c["gate"] for c in f.evidence["checks"]] == ["expect_in_range", "out_of_range"]
    (mild,) = gates.findings_from(CONTRACT, results[:1])
    assert mild.severity == "medium"
