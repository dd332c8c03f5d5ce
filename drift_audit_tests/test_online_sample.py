"""offline_sample and online_sample over a small hand-built Feast store (drift_audit_tests.online_store_data):
every offline source kind, the SQLite online store, serving logs, two regions, edge cases, and
byte-identical re-materialization through Dagster."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize
from pyspark.sql import functions as F

from drift_audit.adapters import feast_store
from drift_audit.config import Config, GroupSettings, OfflineSource, OnlineSource, OnlineStoreSettings
from drift_audit.core.errors import InputDataError
from drift_audit.spark.sample import frame_hash
from drift_audit.stages import contracts, drift, samples
from drift_audit.stages.window import PartitionWindow
from drift_audit_tests import online_store_data as osd

WINDOW = PartitionWindow(osd.DAY, 7)
FEATURES = ["txn_amount_usd", "txn_count_7d", "last_txn_hour", "avg_txn_amount_30d", "merchant_category",
            "chargeback_rate_90d"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> osd.Store:
    return osd.build(tmp_path_factory.mktemp("online_sample"))


@pytest.fixture(scope="module")
def contract(store):
    return contracts.contract_of(contracts.snapshot(store.config(), osd.GROUP))


def with_group(cfg: Config, offline: OfflineSource | None = None, online: list[OnlineSource] | None = None,
               sample_rate: float | None = None, roots: tuple[Path, ...] = (), **audit) -> Config:
    """`cfg` with the transactions group's sources (and audit keys, allowed roots) replaced."""
    gs = cfg.groups[osd.GROUP]
    group = GroupSettings(offline=offline or gs.offline, online=online or gs.online, sample_rate=sample_rate)
    return cfg.model_copy(update={"groups": {osd.GROUP: group}, "audit": cfg.audit.model_copy(update=audit),
                                  "allowed_roots": [*cfg.allowed_roots, *map(str, roots)]})


def rows(df, order=("_source", "customer_id")) -> pd.DataFrame:
    """Test-only: the small sample as pandas, timestamps as epoch seconds."""
    out = df.select(*[F.col(c).cast("double").alias(c) if t == "timestamp" else F.col(c) for c, t in df.dtypes])
    return out.toPandas().sort_values([c for c in order if c in df.columns]).reset_index(drop=True)


def run(cfg, spark, contract, window=WINDOW, tmp: Path | None = None):
    off = samples.offline(cfg, spark, contract, window)
    on = samples.online(cfg, spark, contract, window, off, (tmp or Path(cfg.base_dir)) / "_staging")
    return off, on


# ---------------------------------------------------------------------------------------------- offline


def test_offline_sample_is_the_window_tagged(store, spark, contract):
    off = samples.offline(store.config(), spark, contract, WINDOW)
    ts = store.offline["event_ts"]
    start = pd.Timestamp(WINDOW.start)
    assert off.meta["rows"] == {
        "partition": int(((ts >= start) & (ts < pd.Timestamp(WINDOW.end))).sum()),
        "reference": int(((ts >= pd.Timestamp(WINDOW.reference_start)) & (ts < start)).sum())}
    assert off.meta["rate"] == 1.0 and off.meta["findings"] == []
    assert off.meta["source"]["rows_in_window_at_most"] == sum(off.meta["rows"].values())


def test_every_offline_source_kind_gives_the_same_sample(store, spark, contract, tmp_path):
    cfg = store.config()
    flat = tmp_path / "flat.parquet"
    osd.write_parquet(store.offline, flat, row_groups=9)
    spark.sql(f"CREATE TABLE online_sample_txn USING parquet LOCATION '{store.data / 'offline' / osd.GROUP}'")
    spark.sql("MSCK REPAIR TABLE online_sample_txn")
    try:
        variants = {
            "hive": cfg,
            "flat": with_group(cfg, OfflineSource(path=str(flat)), roots=(tmp_path,)),
            "table": with_group(cfg, OfflineSource(format="table", table="online_sample_txn")),
            "feast": with_group(cfg, OfflineSource(format="feast")),
        }
        samples_by = {name: samples.offline(c, spark, contract, WINDOW, feast_store.open_store(c))
                      for name, c in variants.items()}
        content = {name: frame_hash(s.df) for name, s in samples_by.items()}
    finally:
        spark.sql("DROP TABLE online_sample_txn")
    assert len(set(content.values())) == 1, content
    assert samples_by["feast"].meta["source"]["feast_batch_source"] == "transactions_source"
    assert samples_by["table"].meta["source"]["rows_in_window"] == sum(samples_by["hive"].meta["rows"].values())
    assert samples_by["table"].meta["schema"] == samples_by["hive"].meta["schema"]  # no `date` partition column
    assert samples_by["flat"].meta["source"]["rows_in_window_at_most"] < len(store.offline)


def test_default_rate_keeps_the_expected_sample_under_max_rows(store, spark, contract):
    """Tolerance: 4 standard deviations of the sampled row count (entities are kept whole)."""
    cfg = with_group(store.config(), max_sample_rows=1000)
    off = samples.offline(cfg, spark, contract, WINDOW)
    rate, n = off.meta["rate"], sum(off.meta["rows"].values())
    assert rate == pytest.approx(1000 / off.meta["source"]["rows_in_window_at_most"])
    in_window = store.offline[(store.offline["event_ts"] >= pd.Timestamp(WINDOW.reference_start))
                              & (store.offline["event_ts"] < pd.Timestamp(WINDOW.end))]
    sizes = in_window.groupby("customer_id").size()
    sd = math.sqrt(rate * (1 - rate) * float((sizes ** 2).sum()))
    assert abs(n - rate * len(in_window)) <= 4 * sd
    kept = off.df.groupBy("customer_id").count().toPandas().set_index("customer_id")["count"]
    assert (kept == sizes.reindex(kept.index)).all()  # whole entities, never single rows


def test_another_seed_samples_other_entities(store, spark, contract):
    def pick(seed: int) -> set[int]:
        cfg = with_group(store.config(), sample_rate=0.3, seed=seed)
        return set(rows(samples.offline(cfg, spark, contract, WINDOW).df)["customer_id"])

    first = pick(17)
    assert first == pick(17) and first != pick(18)
    assert 0 < len(first) < osd.CUSTOMERS + osd.LATE


# ----------------------------------------------------------------------------------------------- online


def test_sqlite_online_values_are_the_materialized_rows(store, spark, contract):
    _off, on = run(store.config(), spark, contract)
    got = rows(on.df).set_index("customer_id")
    ref = osd.latest_online(store.offline)
    assert len(got) == osd.CUSTOMERS
    for f in FEATURES:
        expected = ref.loc[got.index, f]
        assert list(got[f]) == (list(expected.astype(float)) if f != "merchant_category" else list(expected))
        assert (got[f] == got[f"{f}__offline"]).all()  # materialized from the offline row it aligns with
    assert list(got["_value_ts"]) == [t.timestamp() for t in ref.loc[got.index, "event_ts"]]
    info = on.meta["sources"]["online_store"]
    assert (info["keys_requested"], info["keys_missing"]) == (osd.CUSTOMERS + osd.LATE, osd.LATE)
    finding = next(f for f in on.meta["findings"] if f["kind"] == "missing_online_keys")
    assert finding["evidence"]["keys_missing"] == osd.LATE
    assert info["freshness"]["lag_behind_offline_s"]["max"] == 0.0
    lag_end = WINDOW.end.timestamp() - got["_value_ts"]
    assert info["freshness"]["lag_behind_partition_end_s"]["max"] == lag_end.max()


def test_serving_logs_parquet_jsonl_and_feast_feature_log(store, spark, contract, tmp_path):
    served = osd.served(store.offline)
    found = served[served["found"]].drop(columns=["found"])
    osd.write_parquet(found, tmp_path / "parquet" / f"date={osd.DAY}" / "part-0.parquet")
    (tmp_path / "jsonl").mkdir()
    found.assign(event_ts=found["event_ts"].astype(str), request_ts=found["request_ts"].astype(str)).to_json(
        tmp_path / "jsonl" / "serving.jsonl", orient="records", lines=True)
    osd.write_feature_log(store, served, tmp_path / "feature_log")
    cfg = with_group(store.config(), roots=(tmp_path,), online=[
        OnlineSource(name="log_parquet", kind="parquet", path=str(tmp_path / "parquet")),
        OnlineSource(name="log_jsonl", kind="jsonl", path=str(tmp_path / "jsonl")),
        OnlineSource(name="feast_log", kind="feast_log", path=str(tmp_path / "feature_log"))])
    _off, on = run(cfg, spark, contract, tmp=tmp_path)
    got = rows(on.df)
    by_source = {s: g.drop(columns=["_source"]).reset_index(drop=True) for s, g in got.groupby("_source")}
    assert set(by_source) == {"log_parquet", "log_jsonl", "feast_log"}
    assert len(by_source["log_parquet"]) == len(found)
    # the three formats carry the same served values, aligned with the same offline rows
    for name in ("log_jsonl", "feast_log"):
        pd.testing.assert_frame_equal(by_source[name], by_source["log_parquet"], check_dtype=False)
    assert (by_source["log_parquet"]["txn_amount_usd"] == by_source["log_parquet"]["txn_amount_usd__offline"]).all()
    log = on.meta["sources"]["feast_log"]
    late_asked = int((~served["found"]).sum())
    assert (log["keys_requested"], log["keys_missing"]) == (len(served), late_asked) and late_asked > 0
    assert log["requests_not_found"] == late_asked
    assert on.meta["sources"]["log_parquet"]["freshness"]["lag_behind_offline_s"]["max"] == 0.0


def test_two_regions_with_a_parity_gap(store, spark, contract, tmp_path):
    """eu-west serves txn_amount_usd in cents: drift_deltas reports the gap between regions for it only."""
    eu = OnlineStoreSettings(type="sqlite", path=str(tmp_path / "eu-west.db"))
    cfg = with_group(store.config(), roots=(tmp_path,))
    fs = feast_store.open_store(cfg, eu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.apply(feast_store.load_definitions(cfg, store.data))
        values = osd.latest_online(store.offline).reset_index()
        values["txn_amount_usd"] = values["txn_amount_usd"] * 100
        fs.write_to_online_store(osd.GROUP, values)
    cfg = with_group(cfg, online=[OnlineSource(name="us-east", kind="feast"),
                                  OnlineSource(name="eu-west", kind="feast", online_store=eu)])
    off, on = run(cfg, spark, contract, tmp=tmp_path)
    assert set(on.meta["sources"]) == {"us-east", "eu-west"}
    result = drift.run(cfg, contract, off, on)
    gaps = [f for f in result["findings"] if f["kind"] == "region_parity_gap"]
    assert [(f["feature"], f["evidence"]["drifted_sources"], f["evidence"]["stable_sources"]) for f in gaps] == [
        ("txn_amount_usd", ["eu-west"], ["us-east"])]


# ------------------------------------------------------------------------------------------- edge cases


def test_empty_partition_gives_empty_samples_and_a_finding(store, spark, contract, tmp_path):
    cfg = with_group(store.config(), roots=(tmp_path,), online=[
        OnlineSource(name="online_store", kind="feast"),
        OnlineSource(name="log", kind="parquet", path=str(tmp_path / "log"))])
    found = osd.served(store.offline).query("found").drop(columns=["found"])
    osd.write_parquet(found, tmp_path / "log" / f"date={osd.DAY}" / "part-0.parquet")  # logs of another day
    far = PartitionWindow(osd.DAY + timedelta(days=60), 7)
    off, on = run(cfg, spark, contract, far, tmp_path)
    assert off.meta["rows"] == {"partition": 0, "reference": 0} and off.df.count() == 0
    assert off.meta["schema_from"].startswith("contract") and off.meta["missing_features"] == []
    assert [f["kind"] for f in off.meta["findings"]] == ["empty_partition"]
    assert on.df.count() == 0 and on.meta["sources"]["online_store"]["keys_requested"] == 0
    assert [(f["kind"], f["evidence"]["side"]) for f in on.meta["findings"]] == [("empty_partition", "log")]


def test_missing_offline_source_names_the_path(store, spark, contract, tmp_path):
    cfg = with_group(store.config(), OfflineSource(path=str(tmp_path / "gone")), roots=(tmp_path,))
    with pytest.raises(InputDataError, match=f"source not found: {tmp_path / 'gone'}"):
        samples.offline(cfg, spark, contract, WINDOW)


def test_unreadable_offline_file_names_the_file(store, spark, contract, tmp_path):
    root = tmp_path / "offline"
    osd.write_hive(store.offline, root)
    bad = root / f"date={osd.DAY}" / "part-00001.parquet"
    bad.write_bytes(b"garbage")
    cfg = with_group(store.config(), OfflineSource(path=str(root)), roots=(tmp_path,))
    with pytest.raises(InputDataError, match=f"unreadable parquet file {bad}"):
        samples.offline(cfg, spark, contract, WINDOW)


def test_feature_added_midway_is_null_in_older_files(store, spark, contract, tmp_path):
    """Files written before a feature existed lack its column: it is read as null there, and counted."""
    root = tmp_path / "offline"
    day_col = store.offline["event_ts"].dt.date
    osd.write_hive(store.offline[day_col >= osd.DAY], root)
    osd.write_hive(store.offline[day_col < osd.DAY].drop(columns=["chargeback_rate_90d"]), root)
    cfg = with_group(store.config(), OfflineSource(path=str(root)), roots=(tmp_path,))
    off = samples.offline(cfg, spark, contract, WINDOW)
    assert off.meta["source"]["columns_missing_in_files"] == {"chargeback_rate_90d": 7}
    nulls = off.df.groupBy("_window").agg(F.count("chargeback_rate_90d").alias("n")).toPandas()
    assert dict(zip(nulls["_window"], nulls["n"], strict=True)) == {"reference": 0, "partition": off.meta["rows"]["partition"]}


# -------------------------------------------------------------------------------------------- hashing


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_rematerializing_a_partition_is_byte_identical(store, monkeypatch):
    from drift_audit.definitions import resources
    from drift_audit.defs.assets import contract_snapshot, offline_sample, online_sample
    from drift_audit.defs.partitions import FEATURE_GROUPS, key

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(FEATURE_GROUPS, [osd.GROUP])
    out = store.config().output_root / "_assets"
    seen = []
    for _ in range(2):
        result = materialize([contract_snapshot, offline_sample, online_sample], instance=instance,
                             partition_key=key(osd.DAY.isoformat(), osd.GROUP), resources=resources(str(store.config_path)))
        assert result.success
        versions = {str(e.asset_key.path[-1]): e.step_materialization_data.materialization.tags.get(
            "dagster/data_version") for e in result.get_asset_materialization_events()}
        files = {a: _files(out / a / osd.DAY.isoformat() / osd.GROUP) for a in ("offline_sample", "online_sample")}
        seen.append((versions, files))
    assert seen[0] == seen[1]
    versions, files = seen[0]
    assert all(versions.values()) and any(name.startswith("data/part-") for name in files["online_sample"])
    meta = json.loads((out / "online_sample" / osd.DAY.isoformat() / osd.GROUP / "meta.json").read_text())
    assert versions["online_sample"] == meta["sha256"]
