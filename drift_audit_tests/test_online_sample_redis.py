"""Redis for real: a redis-server on loopback, Feast materializes into it, the audit reads from it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from dagster import DagsterInstance, materialize

from drift_audit.stages import contracts, samples
from drift_audit.stages.window import PartitionWindow
from drift_audit_tests import online_store_data as osd

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A throw-away redis-server on 127.0.0.1 (no persistence), stopped after the module."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (deploy/install-system-deps.sh installs it)")
    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):  # readiness, not a time limit on the code under test
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(f"redis-server on port {port} did not answer")
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def redis_store(redis_port, tmp_path_factory) -> osd.Store:
    """The hand-built store with Feast's Redis online store, materialized by Feast up to the cutoff."""
    return osd.build(tmp_path_factory.mktemp("redis_store"),
                     feast_online={"type": "redis", "connection_string": f"127.0.0.1:{redis_port}"})


def test_feast_materialized_into_redis(redis_store, redis_port):
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port)
    try:
        assert client.dbsize() == osd.CUSTOMERS  # one hash per entity known before the cutoff
    finally:
        client.close()


def test_online_sample_reads_redis(redis_store, spark):
    cfg = redis_store.config()
    assert cfg.feast.online_store.type == "redis"
    contract = contracts.contract_of(contracts.snapshot(cfg, osd.GROUP))
    window = PartitionWindow(osd.DAY, 7)
    off = samples.offline(cfg, spark, contract, window)
    on = samples.online(cfg, spark, contract, window, off, redis_store.root / "_staging")
    got = on.df.select("customer_id", "txn_amount_usd", "merchant_category",
                       "txn_amount_usd__offline").toPandas().set_index("customer_id").sort_index()  # 400 rows
    ref = osd.latest_online(redis_store.offline)
    assert list(got.index) == list(range(1, osd.CUSTOMERS + 1))
    assert list(got["txn_amount_usd"]) == list(ref.loc[got.index, "txn_amount_usd"])
    assert list(got["merchant_category"]) == list(ref.loc[got.index, "merchant_category"])
    assert (got["txn_amount_usd"] == got["txn_amount_usd__offline"]).all()
    info = on.meta["sources"]["online_store"]
    assert info["online_store"] == "redis"
    assert (info["keys_requested"], info["keys_missing"]) == (osd.CUSTOMERS + osd.LATE, osd.LATE)


def test_partition_audit_assets_read_redis(redis_store):
    from drift_audit.definitions import resources
    from drift_audit.defs.assets import contract_snapshot, offline_sample, online_sample
    from drift_audit.defs.partitions import FEATURE_GROUPS, key

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(FEATURE_GROUPS, [osd.GROUP])
    result = materialize([contract_snapshot, offline_sample, online_sample], instance=instance,
                         partition_key=key(osd.DAY.isoformat(), osd.GROUP),
                         resources=resources(str(redis_store.config_path)))
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    coverage = checks["online_key_coverage"]
    assert not coverage.passed and coverage.metadata["observed"].value == osd.LATE
