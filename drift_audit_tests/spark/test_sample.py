"""Entity-hash sampling and content hashes: determinism, seed independence, rate tolerance."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from drift_audit.spark.sample import frame_hash, hash_sample, sample_rate

N = 20_000


def _ids(df, key="id"):
    return {r[0] for r in df.select(key).distinct().collect()}  # test-only: small frames


def _entities(spark, n=N):
    return spark.range(n).withColumn("value", F.col("id") * 3)


def test_same_seed_same_rows_whatever_the_partitioning(spark):
    df = _entities(spark)
    once = _ids(hash_sample(df, ["id"], 17, 0.1))
    again = _ids(hash_sample(df.repartition(7), ["id"], 17, 0.1))
    assert once == again and len(once) > 0


def test_other_seed_other_rows_independently(spark):
    df = _entities(spark)
    a, b = _ids(hash_sample(df, ["id"], 17, 0.1)), _ids(hash_sample(df, ["id"], 18, 0.1))
    assert a != b
    # independent samples overlap in about rate^2 * N entities (binomial, 4 sigma)
    expected = 0.1 * 0.1 * N
    assert abs(len(a & b) - expected) <= 4 * math.sqrt(expected * (1 - 0.01))


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("seed", [17, 99])
def test_rate_honoured_within_four_binomial_sigmas(spark, rate, seed):
    """Tolerance: |sampled - rate*N| <= 4 * sqrt(N * rate * (1 - rate)) entities."""
    k = hash_sample(_entities(spark), ["id"], seed, rate).count()
    assert abs(k - rate * N) <= 4 * math.sqrt(N * rate * (1 - rate))


def test_all_rows_of_a_sampled_entity_are_kept(spark):
    df = spark.range(30_000).withColumn("entity", F.col("id") % 3000)
    sampled = hash_sample(df, ["entity"], 17, 0.2)
    per_entity = sampled.groupBy("entity").count()
    assert {r["count"] for r in per_entity.collect()} == {10}


def test_key_type_does_not_change_the_sample(spark, frames):
    ids = np.arange(5000)
    typed = frames({"a": pa.array(ids, pa.int32()), "b": pa.array(ids, pa.int64()),
                    "c": pa.array([str(i) for i in ids])})
    picks = [_ids(hash_sample(typed, [k], 17, 0.3), k) for k in "abc"]
    assert {int(x) for x in picks[0]} == {int(x) for x in picks[1]} == {int(x) for x in picks[2]}


def test_rate_one_keeps_everything(spark):
    assert hash_sample(_entities(spark, 100), ["id"], 17, 1.0).count() == 100


@pytest.mark.parametrize(("rows", "max_rows", "configured", "expected"), [
    (1000, 5000, None, 1.0), (10_000_000, 200_000, None, 0.02), (10, 5, 0.3, 0.3)])
def test_default_rate_bounds_the_expected_sample(rows, max_rows, configured, expected):
    rate = sample_rate(rows, max_rows, configured)
    assert rate == pytest.approx(expected)
    if configured is None:
        assert rows * rate <= max_rows


def test_frame_hash_ignores_order_and_partitioning(spark):
    df = _entities(spark, 5000)
    assert frame_hash(df) == frame_hash(df.repartition(5).orderBy(F.desc("id")))
    assert frame_hash(df)[0] == 5000


def test_frame_hash_sees_values_nulls_names_and_types(spark, frames):
    base = frames({"a": [1, 5, 3], "b": [None, 2, 2]})
    swapped_nulls = frames({"a": [None, 5, 3], "b": [1, 2, 2]})  # Spark's xxhash64 alone skips nulls
    changed = frames({"a": [1, 5, 4], "b": [None, 2, 2]})
    renamed = base.withColumnRenamed("b", "c")
    retyped = base.withColumn("a", F.col("a").cast("double"))
    hashes = {frame_hash(df)[1] for df in (base, swapped_nulls, changed, renamed, retyped)}
    assert len(hashes) == 5
    assert frame_hash(base) == frame_hash(frames({"b": [2, 2, None], "a": [3, 5, 1]}))
