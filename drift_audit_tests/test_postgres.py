"""Dagster on Postgres: Debian's postgresql started on 127.0.0.1 by the fixture, the instance configured by
deploy/dagster.yaml (credentials from the environment), partitions run by concurrent `drift-audit`
processes: two partitions at once both succeed; one partition twice at once leaves the same outputs."""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from drift_audit.core.hashing import sha256_file
from drift_audit.demo.generate import DemoSpec
from drift_audit_tests.conftest import REPO

pytestmark = [pytest.mark.services, pytest.mark.e2e]

DAY = DemoSpec().audit_day.isoformat()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    path = found[-1] if found else shutil.which("initdb")
    return Path(path).parent if path else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, str]]:
    """A throwaway cluster: initdb into a temp folder, `postgres` on 127.0.0.1, database `dagster`.

    Postgres refuses to run as root; as root the server runs as the `postgres` user (runuser)."""
    import psycopg2

    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found (deploy/install-system-deps.sh installs postgresql)")
    root = Path(tempfile.mkdtemp(prefix="drift-audit-pg-"))
    (root / "sock").mkdir()
    password = secrets.token_hex(16)
    (root / "pwfile").write_text(password + "\n")
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, root / "sock", root / "pwfile"):
            os.chown(path, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "dagster", "--pwfile",
                    str(root / "pwfile"), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    port = _free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([*as_user, str(bin_dir / "postgres"), "-D", str(root / "data"), "-h", "127.0.0.1",
                               "-p", str(port), "-k", str(root / "sock")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", password=password,
                                        dbname="postgres")
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"postgres did not start: {(root / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE dagster")
        conn.close()
        yield {"DAGSTER_PG_USERNAME": "dagster", "DAGSTER_PG_PASSWORD": password, "DAGSTER_PG_HOST": "127.0.0.1",
               "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_DB": "dagster"}
    finally:
        server.send_signal(2)  # SIGINT: fast shutdown
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _config_with_output(demo_config: Path, name: str) -> Path:
    """The demo's config with its own output folder (inside the demo's temp root)."""
    text = demo_config.read_text().replace(f"output_dir: {demo_config.parent}/out",
                                           f"output_dir: {demo_config.parent}/{name}")
    path = demo_config.parent / f"drift_audit_{name}.yaml"
    path.write_text(text)
    return path


def _tree(root: Path) -> dict[str, Any]:
    """What each file holds: its sha256, except for a sample's parquet files and the `files_sha256` of its
    meta.json, compared by content. Spark's parquet writer (parquet-mr) lists each column chunk's
    encodings in the footer in a per-JVM hash-set order, so two processes writing the same rows can
    produce files that differ in those footer bytes only (see docs/operations.md)."""
    out: dict[str, Any] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.suffix == ".parquet" and p.parent.name == "data":
            out[rel] = pq.read_table(p).to_pydict()
        elif p.name == "meta.json":
            out[rel] = {k: v for k, v in json.loads(p.read_text()).items() if k != "files_sha256"}
        elif p.is_file():
            out[rel] = sha256_file(p)
    return out


def _partition_outputs(out: Path, group: str) -> dict[str, Any]:
    files = {f"report/{k}": v for k, v in _tree(out / DAY / group).items()}
    for asset_dir in sorted((out / "_assets").iterdir()):
        files.update({f"{asset_dir.name}/{k}": v for k, v in _tree(asset_dir / DAY / group).items()})
    return files


def _audit(env: dict[str, str], cfg: Path, group: str, logs: Path) -> tuple[subprocess.Popen[bytes], Path]:
    cli = str(Path(sys.executable).parent / "drift-audit")
    log = logs / f"{group}-{time.monotonic_ns()}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([cli, "--config", str(cfg), "audit", "--date", DAY, "--groups", group], cwd=REPO,
                                env=env, stdout=fh, stderr=subprocess.STDOUT)
    return proc, log


def _wait_all(procs: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for proc, log in procs:
        proc.wait(timeout=1800)
        assert proc.returncode == 0, f"{proc.args}: exit {proc.returncode}\n{log.read_text()[-4000:]}"


def _intervals(instance: Any, group: str) -> list[tuple[float, float]]:
    from dagster import RunsFilter

    records = instance.get_run_records(RunsFilter(tags={"dagster/partition": f"{DAY}|{group}"}))
    return sorted((r.start_time, r.end_time) for r in records)


def test_concurrent_partitions_on_postgres(postgres, demo_config, audited_demo, tmp_path, monkeypatch):
    from dagster import DagsterInstance, DagsterRunStatus

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for k, v in postgres.items():
        monkeypatch.setenv(k, v)
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(home)}
    migrate = subprocess.run([str(Path(sys.executable).parent / "dagster"), "instance", "migrate"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    cfg = _config_with_output(demo_config, "out_postgres")
    out = demo_config.parent / "out_postgres"
    logs = tmp_path / "logs"
    logs.mkdir()

    # two partitions at once, two processes: both succeed, and they did run at the same time
    _wait_all([_audit(env, cfg, "transactions", logs), _audit(env, cfg, "engagement", logs)])
    instance = DagsterInstance.from_config(str(home))
    assert instance.get_run_records()  # stored in Postgres: this instance has no local run storage
    [(s1, e1)], [(s2, e2)] = _intervals(instance, "transactions"), _intervals(instance, "engagement")
    assert max(s1, s2) < min(e1, e2), "the two partitions did not overlap in time"
    first = _partition_outputs(out, "transactions")
    assert "report/findings.json" in first and "offline_sample/data/part-00000.parquet" in first

    # the same partition twice at once: the partition lock serializes them; both succeed, outputs unchanged
    _wait_all([_audit(env, cfg, "transactions", logs), _audit(env, cfg, "transactions", logs)])
    runs = _intervals(instance, "transactions")
    assert len(runs) == 3 and runs[1][1] <= runs[2][0]
    assert _partition_outputs(out, "transactions") == first
    assert not list(out.rglob(".tmp-*"))
    statuses = {r.dagster_run.status for r in instance.get_run_records()}
    assert statuses == {DagsterRunStatus.SUCCESS}
    # and the deliverables equal those of the SQLite instance's run of the same partition
    sqlite_run = next(r for r in audited_demo["runs"] if r.group == "transactions")
    for name in ("findings.json", "report.md"):
        assert (out / DAY / "transactions" / name).read_bytes() == (Path(sqlite_run.report_dir) / name).read_bytes()
