"""Scale-out: a real Spark standalone master and worker on 127.0.0.1, from the pyspark distribution, run the
drift engine with the same results as local mode.

The test process already holds a local SparkSession (one per JVM), so the cluster's driver runs in a
subprocess: `python -m drift_audit_tests.test_spark_standalone MASTER DATA_DIR OUT_JSON`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import ks_2samp

from drift_audit_tests.conftest import REPO

pytestmark = pytest.mark.services

NUMERIC, CATEGORICAL, SIDES = ["amount", "hour"], ["device"], ["online_store", "serving_log"]
CLUSTER_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                "spark.executor.memory": "512m", "spark.cores.max": "1", "spark.sql.shuffle.partitions": "4"}


def summaries(spark: Any, data: Path) -> dict[str, Any]:
    """The drift engine's summaries of the test data, as JSON-ready dicts keyed "feature/side"."""
    from drift_audit.spark.profile import categorical_summaries, numeric_summaries

    ref, cur = spark.read.parquet(str(data / "ref")), spark.read.parquet(str(data / "cur"))
    out = {**numeric_summaries(ref, cur, NUMERIC, SIDES, bins=10),
           **categorical_summaries(ref, cur, CATEGORICAL, SIDES, top_k=5)}
    return json.loads(json.dumps({f"{f}/{s}": asdict(v) for (f, s), v in sorted(out.items())}))


def _write_data(root: Path) -> None:
    rng = np.random.default_rng(7)
    n_ref, n_cur = 3000, 2000

    def table(n: int, shift: float, sides: list[str] | None) -> pa.Table:
        amount = np.round(rng.lognormal(3 + shift, 1.0, n), 2).tolist()
        amount = [None if i % 53 == 0 else v for i, v in enumerate(amount)]  # nulls and ties
        cols: dict[str, Any] = {"amount": amount, "hour": rng.integers(0, 24, n).astype(float).tolist(),
                                "device": rng.choice(["ios", "android", "web", "tv"], n,
                                                     p=[0.4, 0.4, 0.15, 0.05]).tolist()}
        if sides:
            cols["_source"] = [sides[i % len(sides)] for i in range(n)]
        return pa.table(cols)

    for name, t in (("ref", table(n_ref, 0.0, None)), ("cur", table(n_cur, 0.1, SIDES))):
        (root / name).mkdir(parents=True)
        for i in range(3):  # several files: several tasks on the cluster
            pq.write_table(t.slice(i * t.num_rows // 3, t.num_rows // 3 + (i == 2) * (t.num_rows % 3)),
                           root / name / f"part-{i}.parquet")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _master_state(ui_port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A master and one worker (1 core, 1 GiB) started with pyspark's bundled `bin/spark-class`."""
    if shutil.which("java") is None:
        pytest.skip("java is not on PATH (deploy/install-system-deps.sh installs it)")
    import pyspark

    home = Path(pyspark.__file__).parent
    spark_class = home / "bin" / "spark-class"
    tmp = tmp_path_factory.mktemp("standalone")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": str(tmp / "work"),
           "SPARK_LOG_DIR": str(tmp / "logs"), "PYSPARK_PYTHON": sys.executable}
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("master", "worker")}  # noqa: SIM115
    procs = [subprocess.Popen([str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env, stdout=logs["master"],
                              stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _master_state(ui)
                break
            except OSError:
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    pytest.fail(f"Spark master did not start: {(tmp / 'master.log').read_text()[-3000:]}")
                time.sleep(1)
        procs.append(subprocess.Popen([str(spark_class), "org.apache.spark.deploy.worker.Worker", "--host",
                                       "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(worker_ui),
                                       master_url], env=env, stdout=logs["worker"], stderr=subprocess.STDOUT))
        while _master_state(ui).get("aliveworkers", 0) < 1:
            if time.monotonic() > deadline or procs[1].poll() is not None:
                pytest.fail(f"Spark worker did not register: {(tmp / 'worker.log').read_text()[-3000:]}")
            time.sleep(1)
        yield {"master": master_url, "ui_port": ui, "env": env, "tmp": tmp}
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in logs.values():
            fh.close()


def test_drift_engine_on_standalone_cluster_matches_local(standalone, spark, tmp_path):
    data = tmp_path / "data"
    _write_data(data)
    out = tmp_path / "cluster.json"
    proc = subprocess.run([sys.executable, "-m", "drift_audit_tests.test_spark_standalone", standalone["master"],
                           str(data), str(out)], cwd=REPO, env=standalone["env"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    cluster = json.loads(out.read_text())
    assert cluster["master"] == standalone["master"]
    assert cluster["executors"] >= 1  # tasks ran on the worker's executor, not in the driver
    state = _master_state(standalone["ui_port"])
    assert any(app["name"] == "drift_audit" for app in state["completedapps"] + state["activeapps"])

    local = summaries(spark, data)
    assert sorted(local) == sorted(cluster["summaries"]) == sorted(
        [f"{f}/{s}" for f in NUMERIC + CATEGORICAL for s in SIDES])
    assert _close(cluster["summaries"], local)
    # and both are right: KS against scipy on the raw values
    ref = pq.read_table(data / "ref").column("amount").drop_null().to_numpy()
    cur = pq.read_table(data / "cur").to_pandas()
    online = cur[cur["_source"] == "online_store"]["amount"].dropna().to_numpy()
    assert cluster["summaries"]["amount/online_store"]["ks"] == pytest.approx(ks_2samp(ref, online).statistic,
                                                                             rel=1e-9)


def _close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    """Equal structure and counts; floats equal up to summation order across partitions."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys()
        return all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b)
        return all(_close(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=rel, abs=1e-12)
        return True
    assert a == b
    return True


def _driver(master: str, data: str, out: str) -> None:
    from drift_audit.spark.session import get_spark

    spark = get_spark(master, CLUSTER_CONF)
    result = summaries(spark, Path(data))
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
    Path(out).write_text(json.dumps({"master": spark.sparkContext.master, "executors": executors,
                                     "summaries": result}))
    spark.stop()


if __name__ == "__main__":
    _driver(*sys.argv[1:4])
