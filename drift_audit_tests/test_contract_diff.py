"""contract_diff on real data: offline parquet and a real Feast SQLite online store, one defect per feature.

A contract compiled by protoc declares one feature per discrepancy kind; the offline parquet and the
Feast online store (applied and written through `feast.FeatureStore`) each carry that feature's defect
on one side only, and one feature (`clean`) is right everywhere. The audit's stages sample both sides
and diff them; each test checks one kind, with counts recomputed from the generated data.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from drift_audit.adapters import feast_store, protoc
from drift_audit.config import load_config
from drift_audit.stages import diff, samples
from drift_audit.stages.window import PartitionWindow
from drift_audit_tests.conftest import REPO

DAY = date(2026, 5, 1)
N = 200
CONTRACT = """syntax = "proto3";
package features.orders.v1;
import "drift_audit/v1/options.proto";
import "google/protobuf/timestamp.proto";
message Orders {
  option (drift_audit.v1.group) = {
    name: "orders"
    version: "1.0.0"
    owners: "orders@example.com"
    entity_keys: "customer_id"
    event_timestamp: "event_ts"
    created_timestamp: "created_ts"
    risk_tier: 2
    ttl: "48h"
  };
  int64 customer_id = 1;
  google.protobuf.Timestamp event_ts = 2;
  google.protobuf.Timestamp created_ts = 3;
  float basket_value = 4 [(drift_audit.v1.feature) = { unit: "USD" }];
  int32 items = 5;
  int32 score = 6;
  string channel = 7 [(drift_audit.v1.feature) = { allowed_values: ["web", "app"] }];
  double discount = 8;
  optional int64 days_since_return = 9 [(drift_audit.v1.feature) = { max_null_ratio: 0.2 }];
  int64 coupons = 10;
  int64 visits = 11 [(drift_audit.v1.feature) = { default_value: "0" }];
  double legacy_rate = 12;
  string device = 13 [(drift_audit.v1.feature) = { allowed_values: ["ios", "android"] }];
  double amount_local = 14 [(drift_audit.v1.feature) = { unit: "USD" timezone: "UTC" }];
  string email = 15 [(drift_audit.v1.feature) = { pii_class: "EMAIL" tokenization: "sha256" }];
  double clean = 16 [(drift_audit.v1.feature) = { min: 0 max: 1 }];
}
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, spark) -> dict:
    tmp = tmp_path_factory.mktemp("contract_diff")
    (tmp / "contracts/features/orders/v1").mkdir(parents=True)
    (tmp / "contracts/drift_audit/v1").mkdir(parents=True)
    (tmp / "contracts/drift_audit/v1/options.proto").write_text(
        (REPO / "contracts/drift_audit/v1/options.proto").read_text())
    (tmp / "contracts/features/orders/v1/orders.proto").write_text(CONTRACT)
    (tmp / "repo").mkdir()
    config = tmp / "drift_audit.yaml"
    config.write_text("""
contracts: {root: contracts}
feast: {repo_path: repo, project: orders_test, registry: feast/registry.db, online_store: {path: feast/online.db}}
mlflow: {tracking_uri: "sqlite:///mlflow.db"}
audit: {reference_days: 1}
groups: {orders: {offline: {path: offline}, online: [{name: online_store, kind: feast}]}}
""")
    cfg = load_config(config)
    contract = protoc.compile_contracts(cfg.path("contracts")).contracts[0]

    rng = np.random.default_rng(7)
    ids = np.arange(1, N + 1)
    ts = pd.Timestamp(datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=UTC))
    emails = [f"customer{i}@example.com" for i in ids]
    clean = np.round(rng.uniform(0, 1, N), 4)
    scores = rng.integers(300, 850, N)
    fractional = rng.uniform(0, 1, N) < 0.25  # online score values with a fraction
    online_score = np.where(fractional, scores + 0.5, scores).astype(float)
    channel_online = np.array(["web", "app"] * (N // 2), dtype=object)
    channel_online[:25], channel_online[25:30] = "kiosk", "tv"
    discount = rng.uniform(0, 0.3, N)
    discount_nulls = rng.uniform(0, 1, N) < 0.1
    return_nulls = rng.uniform(0, 1, N) < 0.5
    coupon_missing = rng.uniform(0, 1, N) < 0.15
    visit_missing = rng.uniform(0, 1, N) < 0.15
    raw_email = rng.uniform(0, 1, N) < 0.2  # served untokenized

    offline = pa.table({
        "customer_id": pa.array(ids, pa.int64()),
        "event_ts": pa.array([ts] * N, pa.timestamp("us", tz="UTC")),
        "created_ts": pa.array([ts] * N, pa.timestamp("us", tz="UTC")),
        "basket_value": pa.array(rng.uniform(5, 200, N), pa.float32()),
        "items": pa.array(rng.integers(1, 9, N), pa.int32()),
        "score": pa.array(scores, pa.int32()),
        "channel": pa.array(["web", "app"] * (N // 2)),
        "discount": pa.array(np.where(discount_nulls, None, discount), pa.float64()),
        "days_since_return": pa.array(np.where(return_nulls, None, rng.integers(0, 90, N)), pa.int64()),
        "coupons": pa.array(rng.integers(0, 5, N), pa.int64()),
        "visits": pa.array(rng.integers(0, 30, N), pa.int64()),
        "device": pa.array(["ios", "android"] * (N // 2)),
        "amount_local": pa.array(rng.uniform(1, 100, N), pa.float64()),
        "email": pa.array([_sha(e) for e in emails]),
        "clean": pa.array(clean, pa.float64()),
        "warehouse_id": pa.array(rng.integers(1, 4, N), pa.int64()),
    })
    schema = offline.schema.set(offline.schema.get_field_index("amount_local"),
                                offline.schema.field("amount_local").with_metadata({"unit": "cents"}))
    path = cfg.path("offline") / f"date={DAY.isoformat()}" / "part-00000.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(offline.cast(schema), path)

    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Bool, Float64, Int64, String

    store = feast_store.open_store(cfg)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    view = FeatureView(
        name="orders", entities=[customer], ttl=timedelta(hours=72),
        source=FileSource(name="orders_source", path=str(cfg.path("offline")), timestamp_field="event_ts",
                          created_timestamp_column="created_ts"),
        schema=[Field(name="basket_value", dtype=Float64), Field(name="items", dtype=Int64),
                Field(name="score", dtype=Float64), Field(name="channel", dtype=String),
                Field(name="discount", dtype=Float64), Field(name="days_since_return", dtype=Int64),
                Field(name="coupons", dtype=Int64), Field(name="visits", dtype=Int64),
                Field(name="legacy_rate", dtype=Float64),
                Field(name="amount_local", dtype=Float64, tags={"timezone": "America/New_York", "owner": "x"}),
                Field(name="email", dtype=String), Field(name="clean", dtype=Float64),
                Field(name="promo_flag", dtype=Bool)])
    online = pd.DataFrame({
        "customer_id": ids, "event_ts": [ts] * N, "created_ts": [ts] * N,
        "basket_value": offline["basket_value"].to_numpy().astype(float), "items": offline["items"].to_numpy(),
        "score": online_score, "channel": channel_online, "discount": discount,
        "days_since_return": rng.integers(0, 90, N),
        "coupons": pd.Series(np.where(coupon_missing, None, offline["coupons"].to_numpy()), dtype=object),
        "visits": pd.Series(np.where(visit_missing, None, offline["visits"].to_numpy()), dtype=object),
        "legacy_rate": rng.uniform(0, 1, N), "amount_local": offline["amount_local"].to_numpy(),
        "email": [e if raw else _sha(e) for e, raw in zip(emails, raw_email, strict=True)],
        "clean": clean, "promo_flag": rng.uniform(0, 1, N) < 0.5,
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.apply([customer, view])
        store.write_to_online_store("orders", online)

    window = PartitionWindow(DAY, cfg.audit.reference_days)
    off = samples.offline(cfg, spark, contract, window)
    on = samples.online(cfg, spark, contract, window, off, tmp / "staging", store)
    out = diff.run(contract, off, on)
    expected = {"fractional": int(fractional.sum()), "discount_nulls": int(discount_nulls.sum()),
                "return_nulls": int(return_nulls.sum()), "coupon_missing": int(coupon_missing.sum()),
                "visit_missing": int(visit_missing.sum()), "raw_email": int(raw_email.sum()), "emails": emails}
    return {"out": out, "contract": contract, "expected": expected}


def found(world: dict, feature: str, kind: str | None = None) -> list[dict]:
    return [f for f in world["out"]["findings"] if f["feature"] == feature and (kind is None or f["kind"] == kind)]


def only(world: dict, feature: str, kind: str) -> dict:
    hits = found(world, feature, kind)
    assert len(hits) == 1, (feature, kind, found(world, feature))
    return hits[0]


@pytest.mark.parametrize(("feature", "contract_type", "online_type"), [
    ("basket_value", "float32", "float64"), ("items", "int32", "int64")])
def test_silent_widening_between_stores(world, feature, contract_type, online_type):
    f = only(world, feature, "type_widening")
    ev = f["evidence"]
    assert (ev["side"], ev["contract_type"], ev["observed_type"]) == ("online_store", contract_type, online_type)
    assert ev["types_by_side"] == {"offline": contract_type, "online_store": online_type}
    assert ev["declared_by"] == "feast feature view orders"
    assert {x["kind"] for x in found(world, feature)} == {"type_widening"}  # the offline side matches
    row = next(r for r in world["out"]["features"] if r["feature"] == feature)
    assert row["sides"] == {"offline": {"type": contract_type, "transition": "UNCHANGED"},
                            "online_store": {"type": online_type, "transition": "UPDATE"}}


def test_type_mismatch_counts_non_integral_values(world):
    ev = only(world, "score", "type_mismatch")["evidence"]
    assert (ev["contract_type"], ev["observed_type"]) == ("int32", "float64")
    assert ev["non_integral_values"] == world["expected"]["fractional"] > 0


def test_allowed_value_drift_with_counts_and_examples(world):
    ev = only(world, "channel", "allowed_value_drift")["evidence"]
    assert (ev["side"], ev["values_not_allowed"], ev["values"]) == ("online_store", 30, N)
    assert ev["share"] == pytest.approx(30 / N)
    assert ev["examples"] == [{"value": "kiosk", "count": 25}, {"value": "tv", "count": 5}]


def test_nullability_violation_reports_the_null_ratio(world):
    ev = only(world, "discount", "nullability_violation")["evidence"]
    nulls = world["expected"]["discount_nulls"]
    assert (ev["side"], ev["nulls"], ev["rows"], ev["nullable"]) == ("offline", nulls, N, False)
    assert ev["null_ratio"] == pytest.approx(nulls / N)
    over = only(world, "days_since_return", "nullability_violation")["evidence"]  # nullable, above its limit
    assert (over["nullable"], over["max_null_ratio"]) == (True, 0.2)
    assert over["null_ratio"] == pytest.approx(world["expected"]["return_nulls"] / N) and over["null_ratio"] > 0.2


def test_missing_default_where_online_values_are_missing(world):
    ev = only(world, "coupons", "missing_default")["evidence"]
    assert (ev["side"], ev["missing_values"], ev["rows"]) == ("online_store", world["expected"]["coupon_missing"], N)
    line = next(i for i, ln in enumerate(CONTRACT.splitlines(), 1) if "int64 coupons = 10" in ln)
    assert ev["contract"] == f"features/orders/v1/orders.proto:{line}"
    # the same gap with a declared default is a nullability finding, not a missing default
    assert found(world, "visits", "missing_default") == []
    assert only(world, "visits", "nullability_violation")["evidence"]["nulls"] == world["expected"]["visit_missing"]


def test_fields_missing_or_extra_on_either_side(world):
    assert only(world, "legacy_rate", "missing_offline")["evidence"]["side"] == "offline"
    missing = only(world, "device", "missing_online")["evidence"]
    assert (missing["side"], missing["declared_by"]) == ("online_store", "feast feature view orders")
    assert only(world, "warehouse_id", "extra_offline")["evidence"] == {"side": "offline", "observed_type": "int64"}
    assert only(world, "promo_flag", "extra_online")["evidence"] == {"side": "online_store", "observed_type": "bool"}


def test_unit_and_timezone_metadata_mismatches(world):
    hits = {f["evidence"]["side"]: f["evidence"]["mismatches"] for f in found(world, "amount_local", "metadata_mismatch")}
    assert hits == {"offline": {"unit": {"contract": "USD", "observed": "cents"}},
                    "online_store": {"timezone": {"contract": "UTC", "observed": "America/New_York"}}}
    ttl = only(world, "*", "metadata_mismatch")["evidence"]
    assert (ttl["field"], ttl["contract_seconds"], ttl["feature_view_seconds"]) == ("ttl", 48 * 3600, 72 * 3600)


def test_pii_evidence_has_counts_and_never_raw_values(world):
    ev = only(world, "email", "pii_untokenized")["evidence"]
    assert (ev["side"], ev["untokenized_values"], ev["values"]) == ("online_store", world["expected"]["raw_email"], N)
    text = json.dumps(world["out"])
    assert not any(e in text for e in world["expected"]["emails"])
    assert "example.com" not in text


def test_a_clean_feature_has_no_finding(world):
    assert found(world, "clean") == []
    row = next(r for r in world["out"]["features"] if r["feature"] == "clean")
    assert {s["transition"] for s in row["sides"].values()} == {"UNCHANGED"}


def test_every_contract_diff_kind_is_exercised(world):
    from drift_audit.core.findings import KINDS

    kinds = {k for k, (stage, _) in KINDS.items() if stage == "contract_diff"}
    assert kinds == {f["kind"] for f in world["out"]["findings"]}
