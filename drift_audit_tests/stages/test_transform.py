"""transformation_audit through the real stages: late data, duplicates and last-write-wins, dependency
versions per pipeline, and the Feast definitions of a real Python feature repo with push, stream and
on-demand views; a clean store claims nothing."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from drift_audit.core import dependencies
from drift_audit.core.errors import InputDataError
from drift_audit.stages import drift, transform
from drift_audit.stages.window import PartitionWindow
from drift_audit_tests import builders as b

DAY = date(2026, 4, 2)
N = 300
DUP = np.arange(1, 21)  # written twice offline; the log serves the older copy
LATE = np.arange(201, 291)  # created 6h after the partition end
CONTRACT = b.contract([b.feature("amount", "float64", min=0.0), b.feature("cnt_7d", "int64", window="7d",
                                                                          aggregation="count")], tier=2)

FEAST_CLEAN = '''
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64
customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
batch = FileSource(name="g_source", path="offline/g", timestamp_field="event_ts", created_timestamp_column="created_ts")
g = FeatureView(name="g", entities=[customer], ttl=timedelta(hours=48), source=batch,
                schema=[Field(name="amount", dtype=Float64), Field(name="cnt_7d", dtype=Int64)])
'''
FEAST_STREAMS = FEAST_CLEAN + '''
import pandas as pd
from feast import KafkaSource, PushSource, RequestSource, StreamFeatureView
from feast.aggregation import Aggregation
from feast.data_format import JsonFormat
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float32
landing = FileSource(name="g_pushed", path="pushed/g", timestamp_field="ts")
push = PushSource(name="g_push", batch_source=landing)
g_push = FeatureView(name="g_push", entities=[customer], ttl=timedelta(hours=24), source=push,
                     schema=[Field(name="amount", dtype=Float32)])
kafka = KafkaSource(name="g_kafka", timestamp_field="event_time", topic="g", kafka_bootstrap_servers="127.0.0.1:9092",
                    message_format=JsonFormat(schema_json="customer_id bigint, event_time timestamp"), batch_source=batch)
g_stream = StreamFeatureView(name="g_stream", entities=[customer], ttl=timedelta(hours=48), source=kafka,
                             schema=[Field(name="cnt_7d", dtype=Int64)], timestamp_field="event_time",
                             aggregations=[Aggregation(column="amount", function="count", name="cnt_7d",
                                                       time_window=timedelta(days=1))])
fx = RequestSource(name="fx", schema=[Field(name="rate", dtype=Float64)])

@on_demand_feature_view(sources=[g, fx], schema=[Field(name="amount_eur", dtype=Float64)])
def amount_eur(inputs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    out["amount_eur"] = inputs["amount"] * inputs["rate"]
    return out
'''
BATCH = '''
import numpy as np
import pandas as pd


def amount(cents: pd.Series) -> pd.Series:
    return cents / 100.0


def cnt_7d(daily):
    return _window_sum(daily)


def _window_sum(daily):
    return np.sum(daily[:, -7:], axis=1)
'''
UV_LOCK = '''
version = 1
[[package]]
name = "numpy"
version = "1.26.4"
[[package]]
name = "pandas"
version = "1.5.3"
[[package]]
name = "pytz"
version = "2022.7"
'''


def _store(tmp, defects: bool):
    rng = np.random.default_rng(4)
    keys = np.arange(1, N + 1)
    days = {d: {"amount": rng.lognormal(3, 0.5, N), "cnt_7d": rng.poisson(9, N)} for d in (DAY - timedelta(days=1), DAY)}

    def cols(values, rows=slice(None)):
        return {"amount": pa.array(values["amount"][rows]), "cnt_7d": pa.array(values["cnt_7d"][rows], pa.int64())}

    prev, cur = days[DAY - timedelta(days=1)], days[DAY]
    b.write_day(tmp, "g", DAY - timedelta(days=1), b.day_rows(DAY - timedelta(days=1), keys, cols(prev)))
    lag = np.where(np.isin(keys, LATE), 30 * 3600, 900) if defects else 900.0
    today = pa.table(b.day_rows(DAY, keys, cols(cur), created_lag_s=lag))
    served = pa.table(cols(cur))
    event = today["event_ts"].to_pylist()
    if defects:
        older = today.slice(0, len(DUP)).set_column(3, "amount", pa.array(cur["amount"][: len(DUP)] + 1.0))
        older = older.set_column(2, "created_ts", pa.array([t - timedelta(minutes=10) for t in
                                                            older["created_ts"].to_pylist()], b.TS))
        today = pa.concat_tables([today, older])  # a second, older copy of the same (entity, time)
        served = served.set_column(0, "amount", pa.array(np.where(np.isin(keys, DUP), cur["amount"] + 1.0,
                                                                  np.where(np.isin(keys, LATE), prev["amount"], cur["amount"]))))
        served = served.set_column(1, "cnt_7d", pa.array(np.where(np.isin(keys, LATE), prev["cnt_7d"], cur["cnt_7d"]),
                                                          pa.int64()))
        late = set(LATE.tolist())
        prev_event = b.day_rows(DAY - timedelta(days=1), keys, cols(prev))["event_ts"].to_pylist()
        event = [prev_event[i] if k in late else event[i] for i, k in enumerate(keys)]
    b.write_day(tmp, "g", DAY, today, b.log_rows(DAY, keys, event, {c: served[c] for c in served.column_names}))
    (tmp / "pipelines").mkdir()
    (tmp / "pipelines/batch.py").write_text(BATCH)
    (tmp / "pipelines/serving.py").write_text(BATCH)
    (tmp / "pipelines/batch.txt").write_text("numpy==1.26.4\npandas==2.2.3\npytz==2024.1\n")
    (tmp / "pipelines/uv.lock").write_text(UV_LOCK if defects else UV_LOCK.replace("1.5.3", "2.2.3")
                                           .replace("2022.7", "2024.1"))
    cfg = b.write_config(tmp, ["g"], group_extra={
        "dependencies": {"offline": "pipelines/batch.txt", "online": "pipelines/uv.lock"},
        "transformations": {"offline": "pipelines/batch.py", "online": "pipelines/serving.py"}})
    (tmp / "feature_repo/features.py").write_text(textwrap.dedent(FEAST_STREAMS if defects else FEAST_CLEAN))
    return cfg


def _audit(tmp, spark, defects: bool, drifted: tuple[str, ...] = ()):
    cfg = _store(tmp, defects)
    off, on = b.samples_for(cfg, spark, CONTRACT, DAY)
    off.df, on.df = off.df.cache(), on.df.cache()
    dr = drift.run(cfg, CONTRACT, off, on)
    for row in dr["features"]:
        row["drifted"] = row["drifted"] or row["name"] in drifted
    return transform.run(cfg, CONTRACT, PartitionWindow(DAY, cfg.audit.reference_days), off, on, dr)


def test_a_clean_store_claims_no_cause(tmp_path, spark):
    out = _audit(tmp_path, spark, False)
    assert out["findings"] == []
    assert out["late_data"]["offline"]["late_rows"] == 0
    assert out["duplicates"]["offline"]["duplicate_keys"] == 0
    assert out["dependencies"]["differences"] == []
    assert [v["name"] for v in out["feature_views"]["views"]] == ["g"] and out["feature_views"]["problems"] == []


@pytest.fixture(scope="module")
def defective(tmp_path_factory, spark):
    return _audit(tmp_path_factory.mktemp("defects"), spark, True, drifted=("amount",))


def test_only_the_built_defects_are_claimed(defective):
    assert {f["kind"] for f in defective["findings"]} == {
        "late_arriving_data", "duplicate_rows", "dependency_version_mismatch", "feature_definition_mismatch"}


def test_late_arriving_rows_and_what_they_leave_behind_online(defective):
    rows = N + len(DUP)
    late = defective["late_data"]
    assert late["offline"]["late_rows"] == len(LATE) and late["offline"]["late_share"] == pytest.approx(len(LATE) / rows)
    assert late["offline"]["lag_p50_s"] == 900 and late["offline"]["late_lag_p50_s"] == 30 * 3600
    assert late["serving_log"]["behind_offline"] == len(LATE)  # served yesterday's value instead
    assert late["serving_log"]["behind_p50_s"] == 86400
    (f,) = [f for f in defective["findings"] if f["kind"] == "late_arriving_data"]
    assert f["evidence"]["late_share"] == pytest.approx(len(LATE) / rows) and f["feature"] == "*"


def test_duplicates_and_last_write_wins(defective):
    d = defective["duplicates"]
    assert d["offline"] == {"duplicate_keys": len(DUP), "duplicate_rows": 2 * len(DUP), "conflicting_keys": len(DUP)}
    assert d["serving_log"]["last_write_wins"] == {"aligned_to_conflicting_keys": len(DUP),
                                                   "served_newest_created": 0, "served_other_copy": len(DUP),
                                                   "served_neither": 0}
    (f,) = [f for f in defective["findings"] if f["kind"] == "duplicate_rows"]
    assert f["severity"] == "high" and f["sources"] == ["offline", "serving_log"]
    assert f["evidence"]["served_other_copy"] == len(DUP)


def test_dependency_differences_flag_libraries_touching_drifted_features(defective):
    deps = defective["dependencies"]
    assert [(d["library"], d["offline"], d["online"]) for d in deps["differences"]] == [
        ("pandas", "==2.2.3", "==1.5.3"), ("pytz", "==2024.1", "==2022.7")]
    by = {d["library"]: d["drifted_features_using_it"] for d in deps["differences"]}
    assert by == {"pandas": ["amount"], "pytz": []}  # amount's function uses pd; pytz is not imported
    (f,) = [f for f in defective["findings"] if f["kind"] == "dependency_version_mismatch"]
    assert f["evidence"]["libraries_touching_drifted_features"] == ["pandas"] and f["severity"] == "high"


def test_feast_definitions_from_the_python_repo(defective):
    views = defective["feature_views"]
    assert [v["name"] for v in views["views"]] == ["g", "g_push", "g_stream"]
    by = {v["name"]: v for v in views["views"]}
    assert by["g"]["ttl_seconds"] == 48 * 3600 and by["g"]["batch_source"]["path"] == "offline/g"
    assert by["g_push"]["stream_source"]["type"] == "PushSource"
    assert by["g_stream"]["aggregations"] == [{"feature": "cnt_7d", "column": "amount", "function": "count",
                                               "window_seconds": 86400.0}]
    (odfv,) = views["on_demand"]
    assert odfv["name"] == "amount_eur" and odfv["sources"] == ["fx", "g"] and len(odfv["transformation_sha256"]) == 64
    problems = " | ".join(p["problem"] for p in views["problems"])
    for expected in ("PushSource g_push of g_push: timestamp_field differs", "created_timestamp_column differs",
                     "lands in g_pushed (pushed/g), but training reads g_source (offline/g)",
                     "KafkaSource g_kafka of g_stream: timestamp_field differs",
                     "g_push serves it as Float32, g as Float64", "TTL of g_push differs from g",
                     "window or aggregation differs from the contract"):
        assert expected in problems
    found = {f["feature"]: f for f in defective["findings"] if f["kind"] == "feature_definition_mismatch"}
    assert set(found) == {"*", "amount", "cnt_7d"}
    assert found["cnt_7d"]["evidence"]["problems"][0]["feast"]["window"] == "1d"


def test_on_demand_hash_follows_the_transformation_source(tmp_path):
    from drift_audit.adapters import feast_repo

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/features.py").write_text(textwrap.dedent(FEAST_STREAMS))
    (tmp_path / "b/features.py").write_text(textwrap.dedent(FEAST_STREAMS).replace('inputs["rate"]', '1.1'))
    same = feast_repo.load(tmp_path / "a/features.py")["on_demand_feature_views"][0]["transformation_sha256"]
    again = feast_repo.load(tmp_path / "a/features.py")["on_demand_feature_views"][0]["transformation_sha256"]
    other = feast_repo.load(tmp_path / "b/features.py")["on_demand_feature_views"][0]["transformation_sha256"]
    assert same == again != other


def test_lockfile_formats_and_function_level_library_use(tmp_path):
    (tmp_path / "Pipfile.lock").write_text('{"default": {"Pandas": {"version": "==2.0.0"}}, "develop": {}}')
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "NumPy"\nversion = "2.0.1"\n')
    (tmp_path / "r.txt").write_text("# pins\npandas[performance]==2.1.0 ; python_version>'3'\n-e .\nscipy>=1.10\n")
    assert dependencies.read_lock(tmp_path / "Pipfile.lock") == {"pandas": "==2.0.0"}
    assert dependencies.read_lock(tmp_path / "poetry.lock") == {"numpy": "==2.0.1"}
    assert dependencies.read_lock(tmp_path / "r.txt") == {"pandas": "==2.1.0", "scipy": ">=1.10"}
    (tmp_path / "m.py").write_text(BATCH)
    info = dependencies.module_info(tmp_path / "m.py")
    assert info.uses == {"amount": ("pandas",), "cnt_7d": ("numpy",), "_window_sum": ("numpy",)}  # via its helper
    (tmp_path / "bad.lock").write_text("[[package]\n")
    with pytest.raises(InputDataError, match=r"bad\.lock is not a valid lock file"):
        dependencies.read_lock(tmp_path / "bad.lock")
