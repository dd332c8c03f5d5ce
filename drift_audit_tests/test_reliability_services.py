"""Unreachable services and bad invocations give one clear line, never a traceback or a partial output."""

import socket
import subprocess
import sys

import pyarrow as pa
import pytest

from drift_audit.adapters import feast_store, mlflow_registry
from drift_audit.config import OnlineStoreSettings, load_config
from drift_audit.core.errors import ServiceUnavailableError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_unreachable_names_the_feature_view(demo_config):
    cfg = load_config(demo_config)
    port = _closed_port()
    store = feast_store.open_store(cfg, OnlineStoreSettings(type="redis", connection_string=f"127.0.0.1:{port}"))
    with pytest.raises(ServiceUnavailableError, match="online store of feature view 'transactions'"):
        feast_store.read_online(store, "transactions", {"txn_amount_usd": "float64"}, {"customer_id": pa.int64()},
                                [(1,), (2,)], 100)


def test_mlflow_unreachable_is_a_clear_error_in_seconds():
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ServiceUnavailableError, match=f"MLflow at {uri} could not be read"):
        mlflow_registry.read_models(uri)


@pytest.mark.parametrize(("args", "expected"), [
    (["--config", "/nonexistent/drift_audit.yaml", "audit", "--date", "2026-10-21"], "configuration file not found"),
    (["audit", "--date", "2026-10-21", "--groups", "nope"], "unknown feature group 'nope'"),
    (["compare", "/nonexistent/a.parquet", "/nonexistent/b.parquet"], "/nonexistent/a.parquet"),
    (["ledger", "verify", "/nonexistent/ledger.jsonl"], "/nonexistent/ledger.jsonl"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, expected, tmp_path):
    from drift_audit_tests.conftest import REPO

    proc = subprocess.run([sys.executable, "-m", "drift_audit.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600, env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
                                                      "HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and expected in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.startswith("drift-audit")]) == 1


def test_credentials_never_reach_an_error_message():
    from drift_audit.core.errors import redact

    assert redact("at http://alice:s3cret@host:5000/api failed") == "at http://***@host:5000/api failed"
    assert "s3cret" not in redact("redis 127.0.0.1:6379,password=s3cret,ssl=true")
    uri = f"http://alice:s3cret@127.0.0.1:{_closed_port()}"
    with pytest.raises(ServiceUnavailableError) as err:
        mlflow_registry.read_models(uri)
    assert "s3cret" not in str(err.value) and "***@127.0.0.1" in str(err.value)
