"""Quality gates as Dagster asset checks, materialized in-process: severities by tier, observed and threshold
metadata, row-count history from real earlier materializations, GE validation JSON stored per partition."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance, materialize

from drift_audit.core.tiers import thresholds
from drift_audit.definitions import resources
from drift_audit.defs.assets import (
    contract_diff,
    contract_snapshot,
    offline_sample,
    online_sample,
    quality_gates,
)
from drift_audit.defs.checks import QUALITY_CHECKS
from drift_audit.defs.partitions import key
from drift_audit.stages.run import register_groups
from drift_audit_tests import builders as b
from drift_audit_tests.conftest import REPO

CHAIN = [contract_snapshot, offline_sample, online_sample, contract_diff, quality_gates]
DAY = date(2026, 3, 10)


def _merchants(tmp: Path, day: date, n: int) -> None:
    rng = np.random.default_rng(day.toordinal())
    keys = np.arange(1, n + 1)
    feats = {"merchant_fraud_rate_30d": pa.array(rng.beta(2, 200, n)),
             "merchant_txn_volume_1d": pa.array(rng.lognormal(9, 1, n)),
             "merchant_age_days": pa.array(rng.integers(10, 5000, n), pa.int64())}
    off = b.day_rows(day, keys, feats, key="merchant_id")
    b.write_day(tmp, "merchant_risk", day, off,
                b.log_rows(day, keys, off["event_ts"].to_pylist(), feats, key="merchant_id"))


def _transactions(tmp: Path, day: date, n: int, out_of_range: int) -> None:
    rng = np.random.default_rng(day.toordinal())
    keys = np.arange(1, n + 1)
    amount = rng.lognormal(3.8, 0.7, n)
    served = amount.copy()
    served[:out_of_range] = 60_000.0  # above the contract's max of 50000
    def feats(a):
        return {"txn_amount_usd": pa.array(a), "txn_count_7d": pa.array(rng.poisson(9, n), pa.int64()),
                "last_txn_hour": pa.array(rng.integers(0, 24, n), pa.int32()),
                "avg_txn_amount_30d": pa.array(rng.lognormal(3.8, 0.3, n)),
                "merchant_category": pa.array(rng.choice(["grocery", "fuel", "dining"], n).tolist()),
                "chargeback_rate_90d": pa.array(rng.beta(1, 60, n))}
    off = b.day_rows(day, keys, feats(amount))
    b.write_day(tmp, "transactions", day, off, b.log_rows(day, keys, off["event_ts"].to_pylist(), feats(served)))


@pytest.fixture()
def store(tmp_path, dagster_home):
    b.write_config(tmp_path, ["merchant_risk", "transactions"],
                   extra={"contracts": {"root": str(REPO / "contracts")}, "allowed_roots": [str(REPO)]})
    instance = DagsterInstance.from_config(str(dagster_home))
    register_groups(instance, ["merchant_risk", "transactions"])
    return tmp_path, instance, resources(str(tmp_path / "drift_audit.yaml"))


def _checks(result):
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == AssetKey("quality_gates")}


def test_row_count_gate_reads_earlier_materializations_and_warns_below_tier_1(store):
    tmp, instance, res = store
    for i in (3, 2, 1):  # earlier partitions: 200 rows a day, materialized for real
        day = DAY - timedelta(days=i)
        _merchants(tmp, day, 200)
        done = materialize([contract_snapshot, offline_sample], partition_key=key(day.isoformat(), "merchant_risk"),
                           instance=instance, resources=res)
        assert done.success
    _merchants(tmp, DAY, 100)  # the volume halves
    result = materialize(CHAIN, partition_key=key(DAY.isoformat(), "merchant_risk"), instance=instance, resources=res)
    checks = _checks(result)
    assert set(checks) == set(QUALITY_CHECKS)
    rows = checks["row_count_change"]
    assert rows.passed is False and rows.severity == AssetCheckSeverity.WARN  # merchant_risk is tier 2
    assert rows.metadata["observed"].value == pytest.approx(-0.5)
    assert rows.metadata["threshold"].value == thresholds(2)["row_count_change"]
    assert rows.metadata["judges"].value == "offline_sample"
    assert [name for name, e in checks.items() if not e.passed] == ["row_count_change"]
    stored = json.loads((tmp / "out/_assets/quality_gates" / DAY.isoformat() / "merchant_risk/value.json").read_text())
    gate = next(g for g in stored["gates"] if g["gate"] == "row_count_change")
    assert gate["detail"]["history"] == [200, 200, 200]

    nxt = DAY + timedelta(days=1)  # back to normal: history now holds 200, 200, 200, 100 (median 200)
    _merchants(tmp, nxt, 190)
    result = materialize(CHAIN, partition_key=key(nxt.isoformat(), "merchant_risk"), instance=instance, resources=res)
    rows = _checks(result)["row_count_change"]
    assert rows.passed is True and rows.metadata["observed"].value == pytest.approx(-0.05)


def test_tier_1_breach_is_an_error_check_and_validations_are_stored_per_partition(store):
    tmp, instance, res = store
    _transactions(tmp, DAY, 300, out_of_range=30)
    result = materialize(CHAIN, partition_key=key(DAY.isoformat(), "transactions"), instance=instance, resources=res)
    checks = _checks(result)
    failed = {name for name, e in checks.items() if not e.passed}
    assert failed == {"out_of_range", "expect_in_range"}
    for name in failed:
        assert checks[name].severity == AssetCheckSeverity.ERROR  # transactions is tier 1
    rng_check = checks["out_of_range"]
    assert rng_check.metadata["observed"].value == pytest.approx(30 / 300)
    assert rng_check.metadata["threshold"].value == thresholds(1)["out_of_range"]
    assert rng_check.metadata["failing"].value == ["txn_amount_usd@serving_log"]
    assert checks["freshness"].passed and checks["freshness"].metadata["threshold"].value == 26 * 3600
    stored = json.loads((tmp / "out/_assets/quality_gates" / DAY.isoformat() / "transactions/value.json").read_text())
    assert set(stored["validations"]) == {"offline", "serving_log"}
    between = [r for r in stored["validations"]["serving_log"]["results"]
               if r["expectation"] == "expect_column_values_to_be_between" and r["kwargs"]["column"] == "txn_amount_usd"]
    assert between[0]["success"] is False and between[0]["unexpected_count"] == 30
