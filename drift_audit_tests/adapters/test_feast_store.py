"""The Feast adapter: batched online reads with timestamps, typed results, clear errors, batch sources."""

from __future__ import annotations

import socket

import pyarrow as pa
import pytest

from drift_audit.adapters import feast_store
from drift_audit.config import OnlineStoreSettings
from drift_audit.core.errors import ServiceUnavailableError
from drift_audit_tests import online_store_data as osd

FEATURES = {"txn_amount_usd": "float64", "txn_count_7d": "int64", "merchant_category": "string"}
KEYS = {"customer_id": pa.int64()}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> osd.Store:
    return osd.build(tmp_path_factory.mktemp("feast_store"))


@pytest.fixture(scope="module")
def fs(store):
    return feast_store.open_store(store.config())


def _read(fs, keys, batch):
    return feast_store.read_online(fs, osd.GROUP, FEATURES, KEYS, [(k,) for k in keys], batch)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_batch_size_does_not_change_what_is_read(fs, batch):
    keys = [*range(1, 60), osd.CUSTOMERS + 1]  # the last one was never materialized
    assert _read(fs, keys, batch).equals(_read(fs, keys, len(keys)))


def test_values_and_timestamps_are_the_materialized_rows(fs, store):
    keys = [1, 2, 3, osd.CUSTOMERS + 5]
    table = _read(fs, keys, 2).to_pydict()
    ref = osd.latest_online(store.offline)
    assert table["customer_id"] == keys
    assert table["_found"] == [True, True, True, False]
    assert table["txn_amount_usd"][:3] == list(ref.loc[keys[:3], "txn_amount_usd"])
    assert table["_value_ts"][:3] == [t.to_pydatetime() for t in ref.loc[keys[:3], "event_ts"]]
    assert table["_value_ts"][3] is None and table["txn_amount_usd"][3] is None


def test_no_keys_gives_a_typed_empty_table(fs):
    table = _read(fs, [], 10)
    assert table.num_rows == 0
    assert table.schema.field("txn_count_7d").type == pa.int64()
    assert table.schema.field("merchant_category").type == pa.string()


def test_unknown_keys_only_are_typed_nulls(fs):
    table = _read(fs, [10**9], 10)
    assert table.schema.field("txn_amount_usd").type == pa.float64() and table["_found"].to_pylist() == [False]


def test_unreachable_redis_is_a_clear_error(store):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    dead = feast_store.open_store(store.config(),
                                  OnlineStoreSettings(type="redis", connection_string=f"127.0.0.1:{port}"))
    with pytest.raises(ServiceUnavailableError, match="online store of feature view 'transactions'"):
        _read(dead, [1], 10)


def test_feature_view_info_names_the_batch_source(fs, store):
    info = feast_store.feature_view_info(fs, osd.GROUP)
    assert info.batch_source["name"] == "transactions_source"
    assert info.batch_source["path"] == str(store.data / "offline" / osd.GROUP)
    assert info.batch_source["table"] == "" and info.ttl_seconds == 48 * 3600
