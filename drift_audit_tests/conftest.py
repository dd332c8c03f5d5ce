"""Shared fixtures: one SparkSession for the whole run, a parquet helper, the demo built once."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession

from drift_audit.spark.session import get_spark

REPO = Path(__file__).resolve().parents[1]
# A secret the demo config reads from the environment (`${...}`); no output may ever contain it.
SECRET = "da-test-secret-7f3a9c"
os.environ.setdefault("DRIFT_AUDIT_TEST_SECRET", SECRET)
_counter = itertools.count()


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = get_spark("local[2]", {"spark.sql.shuffle.partitions": "4"}, driver_memory="2g")
    yield session


@pytest.fixture(scope="session")
def frames(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    """`frames(dict_of_columns_or_arrow_table) -> DataFrame`, via parquet as real data arrives."""
    root = tmp_path_factory.mktemp("frames")

    def make(data: dict | pa.Table, row_groups: int = 3) -> DataFrame:
        table = data if isinstance(data, pa.Table) else pa.table(data)
        path = root / f"f{next(_counter)}.parquet"
        pq.write_table(table, path, row_group_size=max(1, -(-table.num_rows // row_groups)))
        return spark.read.parquet(str(path))

    return make


def write_demo_config(tmp: Path, **overrides: str) -> Path:
    """A drift_audit.yaml in `tmp` that uses the repository's contracts and demo code, data under `tmp`."""
    text = (REPO / "drift_audit.yaml").read_text()
    text = text.replace("demo/data/", f"{tmp}/data/").replace("output_dir: demo/out", f"output_dir: {tmp}/out")
    for rel in ("contracts", "demo/feature_repo", "demo/pipelines"):
        text = text.replace(f": {rel}", f": {REPO / rel}")
    text = text.replace("partitions_start:", f"allowed_roots: ['{REPO}', '{tmp}']\npartitions_start:")
    for key, value in overrides.items():
        text = text.replace(key, value)
    path = tmp / "drift_audit.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store built once per test run, in a temporary folder."""
    from drift_audit.config import load_config
    from drift_audit.demo.generate import build_demo

    tmp = tmp_path_factory.mktemp("demo")
    cfg_path = write_demo_config(tmp, **{"    type: sqlite\n": "    type: sqlite\n    connection_string: "
                                                                   "'127.0.0.1:6379,password=${DRIFT_AUDIT_TEST_SECRET}'\n"})
    build_demo(load_config(cfg_path))
    return cfg_path


@pytest.fixture()
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def audited_demo(demo_config: Path, tmp_path_factory: pytest.TempPathFactory, spark: SparkSession):
    """The demo day audited for every group through Dagster, once per test run."""
    from dagster import DagsterInstance

    from drift_audit.config import load_config
    from drift_audit.demo.generate import DemoSpec
    from drift_audit.stages.run import materialize_partitions

    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    instance = DagsterInstance.from_config(str(home))
    cfg = load_config(demo_config)
    runs = materialize_partitions(cfg, str(demo_config), [DemoSpec().audit_day.isoformat()], cfg.groups,
                                  instance=instance)
    return {"config": cfg, "config_path": demo_config, "runs": runs, "instance": instance}
