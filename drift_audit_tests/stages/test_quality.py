"""quality_gates on real Spark samples with real Great Expectations runs: each gate kind is caught on data
built to violate it, and clean data passes every gate."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from drift_audit.core.tiers import thresholds
from drift_audit.stages import diff, quality
from drift_audit_tests import builders as b

DAY = date(2026, 3, 10)
N = 400
CONTRACT = b.contract([
    b.feature("amount", "float64", min=0.0, max=100.0),
    b.feature("cnt", "int64", nullable=True, max_null_ratio=0.1, min=0.0),
    b.feature("cat", "string", allowed_values=("a", "b", "c")),
    b.feature("hour", "int32", min=0.0, max=23.0),
], tier=1)


def _build(tmp, violate: bool):
    rng = np.random.default_rng(7)
    keys = np.arange(1, N + 1)
    amount = rng.uniform(1, 90, N)
    cnt = rng.poisson(5, N).astype(float)
    cnt_null = rng.uniform(0, 1, N) < (0.15 if violate else 0.05)
    cat = rng.choice(["a", "b", "c"], N)
    hour = rng.integers(0, 24, N)
    if violate:
        amount[:3] = 150.0  # out of range
        amount[3] = np.nan  # null in a non-nullable feature
        cat[10:12] = "z"  # outside the allowed set
    off = b.day_rows(DAY, keys, {
        "amount": pa.array(amount, pa.float64(), from_pandas=True),
        "cnt": pa.array(np.where(cnt_null, None, cnt).tolist(), pa.int64()),
        "cat": pa.array(cat.tolist(), pa.string()),
        "hour": pa.array(hour, pa.int64() if violate else pa.int32()),  # int64 breaks the declared int32
    })
    table = pa.table(off)
    if violate:  # two (entity, event time) keys written twice
        table = pa.concat_tables([table, table.slice(20, 2)])
    served_amount = amount.copy()
    served_cnt_null = cnt_null.copy()
    if violate:
        served_amount[40:80] = 150.0  # 10% out of range online
        served_cnt_null[100:160] = True  # null rate up online
    event = off["event_ts"].to_pylist()
    if violate:
        event = [e - timedelta(days=3) for e in event]  # values three days old: stale
    log = b.log_rows(DAY, keys, event, {
        "amount": pa.array(served_amount, pa.float64(), from_pandas=True),
        "cnt": pa.array(np.where(served_cnt_null, None, cnt).tolist(), pa.int64()),
        "cat": pa.array(cat.tolist(), pa.string()), "hour": pa.array(hour, pa.int32())})
    b.write_day(tmp, "g", DAY, table, log)
    cfg = b.write_config(tmp, ["g"])
    return cfg, {"amount": amount, "served_amount": served_amount, "cnt_null": cnt_null,
                 "served_cnt_null": served_cnt_null, "rows": table.num_rows}


def _run(tmp, spark, violate: bool, history):
    cfg, truth = _build(tmp, violate)
    off, on = b.samples_for(cfg, spark, CONTRACT, DAY)
    return quality.run(cfg, CONTRACT, off, on, diff.run(CONTRACT, off, on), history), truth


def test_clean_data_passes_every_gate(tmp_path, spark):
    out, _ = _run(tmp_path, spark, False, [N, N, N])
    assert [g for g in out["gates"] if not g["passed"]] == []
    assert out["findings"] == []
    assert all(v["success"] for v in out["validations"].values())
    gates = {g["gate"] for g in out["gates"]}
    assert gates == {"expect_not_null", "expect_in_range", "expect_in_set", "expect_type", "expect_unique_key",
                     "freshness", "null_rate_increase", "out_of_range", "row_count_change"}


def test_each_gate_kind_fails_on_data_built_to_violate_it(tmp_path, spark):
    out, truth = _run(tmp_path, spark, True, [2 * N, 2 * N, 2 * N])
    failed = {(g["gate"], g["feature"], g["side"]) for g in out["gates"] if not g["passed"]}
    assert failed == {
        ("expect_not_null", "amount", "offline"), ("expect_not_null", "cnt", "offline"),
        ("expect_not_null", "cnt", "serving_log"), ("expect_not_null", "amount", "serving_log"),
        ("expect_in_set", "cat", "serving_log"), ("expect_in_range", "amount", "offline"), ("expect_in_range", "amount", "serving_log"),
        ("expect_in_set", "cat", "offline"), ("expect_type", "hour", "offline"),
        ("expect_unique_key", "*", "offline"), ("freshness", "*", "serving_log"),
        ("null_rate_increase", "cnt", "serving_log"),
        ("out_of_range", "amount", "offline"), ("out_of_range", "amount", "serving_log"),
        ("row_count_change", "*", "offline"),
    }
    by = {(g["gate"], g["feature"], g["side"]): g for g in out["gates"]}
    limits = thresholds(1)
    # observed values against numpy on the generated arrays
    off_values = np.concatenate([truth["amount"], truth["amount"][20:22]])
    off_values = off_values[~np.isnan(off_values)]
    assert by[("out_of_range", "amount", "offline")]["observed"] == pytest.approx(np.mean(off_values > 100), abs=1e-6)
    served = truth["served_amount"][~np.isnan(truth["served_amount"])]
    assert by[("out_of_range", "amount", "serving_log")]["observed"] == pytest.approx(np.mean(served > 100), abs=1e-6)
    assert by[("out_of_range", "amount", "offline")]["threshold"] == limits["out_of_range"]
    off_null = np.concatenate([truth["cnt_null"], truth["cnt_null"][20:22]]).mean()
    assert by[("null_rate_increase", "cnt", "serving_log")]["observed"] == pytest.approx(
        truth["served_cnt_null"].mean() - off_null, abs=1e-6)
    assert by[("expect_not_null", "cnt", "offline")]["threshold"] == pytest.approx(0.1)
    assert by[("expect_not_null", "cnt", "offline")]["observed"] == pytest.approx(off_null, abs=1e-6)
    assert by[("expect_unique_key", "*", "offline")]["detail"]["unexpected_count"] == 4  # 2 keys x 2 rows
    assert by[("expect_type", "hour", "offline")]["detail"]["kwargs"]["type_"] == "IntegerType"
    fresh = by[("freshness", "*", "serving_log")]
    assert fresh["threshold"] == 26 * 3600 and fresh["observed"] > 3 * 86400
    assert by[("row_count_change", "*", "offline")]["observed"] == pytest.approx((truth["rows"] - 2 * N) / (2 * N))
    kinds = {(f["feature"], f["kind"]) for f in out["findings"]}
    assert kinds == {("amount", "nullability_violation"), ("cnt", "nullability_violation"), ("amount", "out_of_range"),
                     ("cat", "allowed_value_drift"), ("hour", "type_mismatch"), ("*", "duplicate_rows"),
                     ("*", "stale_online_values"), ("cnt", "null_rate_increase"), ("*", "row_count_change")}
    examples = {e["value"] for e in by[("expect_in_set", "cat", "offline")]["detail"]["unexpected_examples"]}
    assert examples == {"z"}


def test_validation_results_are_great_expectations_json(tmp_path, spark):
    out, _ = _run(tmp_path, spark, True, [])
    offline = out["validations"]["offline"]
    assert offline["suite"] == "g_offline" and offline["success"] is False
    kinds = {r["expectation"] for r in offline["results"]}
    assert kinds == {"expect_column_values_to_not_be_null", "expect_column_values_to_be_between",
                     "expect_column_values_to_be_in_set", "expect_column_values_to_be_of_type",
                     "expect_compound_columns_to_be_unique"}
    stats = offline["statistics"]
    assert stats["evaluated_expectations"] == len(offline["results"])
    assert stats["unsuccessful_expectations"] == sum(1 for r in offline["results"] if not r["success"])
    not_null_cnt = next(r for r in offline["results"] if r["expectation"] == "expect_column_values_to_not_be_null"
                        and r["kwargs"]["column"] == "cnt")
    assert not_null_cnt["kwargs"]["mostly"] == pytest.approx(0.9)


def test_pii_values_never_appear_in_validation_results(tmp_path, spark):
    con = b.contract([b.feature("email", "string", pii_class="EMAIL", tokenization="sha256",
                                allowed_values=("x",))])
    keys = np.arange(1, 41)
    off = b.day_rows(DAY, keys, {"email": pa.array([f"person{k}@example.com" for k in keys])})
    b.write_day(tmp_path, "g", DAY, off, b.log_rows(DAY, keys, off["event_ts"].to_pylist(), {"email": off["email"]}))
    cfg = b.write_config(tmp_path, ["g"])
    o, n = b.samples_for(cfg, spark, con, DAY)
    out = quality.run(cfg, con, o, n, diff.run(con, o, n), [])
    import json

    text = json.dumps(out)
    assert "@example.com" not in text
    assert any(not g["passed"] and g["gate"] == "expect_in_set" for g in out["gates"])
