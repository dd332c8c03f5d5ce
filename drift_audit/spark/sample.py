"""Deterministic entity sampling, point-in-time alignment and order-independent content hashes."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

HASH_SCALE = 1_000_000_000  # sampling resolution: rates are honoured to 1e-9


def sample_rate(estimated_rows: int, max_rows: int, configured: float | None) -> float:
    """The configured rate, or the largest rate whose expected sample has at most `max_rows` rows."""
    if configured is not None:
        return configured
    if estimated_rows <= max_rows:
        return 1.0
    return max_rows / estimated_rows


def entity_bucket(keys: Sequence[str], seed: int) -> Column:
    """A seeded hash of the entity key in [0, HASH_SCALE): the same entity always lands in the same bucket."""
    return positive_mod(F.xxhash64(F.lit(seed).cast("long"), *[F.col(k) for k in keys]), HASH_SCALE)


def positive_mod(col: Column, modulus: int | Column) -> Column:
    """Spark's pmod (not exposed in the Python API of 3.3): a result in [0, modulus)."""
    m = modulus if isinstance(modulus, Column) else F.lit(modulus)
    return ((col % m) + m) % m


def hash_sample(df: DataFrame, keys: Sequence[str], seed: int, rate: float) -> DataFrame:
    """Every row of the sampled entities (never rand() or limit, so both stores pick the same entities)."""
    if rate >= 1.0:
        return df
    return df.where(entity_bucket(keys, seed) < F.lit(int(rate * HASH_SCALE)))


def frame_hash(df: DataFrame) -> tuple[int, str]:
    """(rows, hash) of the multiset of rows: order-independent sums of two seeded 64-bit row hashes.

    Sums wrap modulo 2^64, so the result does not depend on partitioning or row order; two different
    multisets collide with probability about 2^-128 for accidental changes (not a defence against an
    adversary, which the file sha256 in the same metadata covers)."""
    cols = [F.col(c) for c in sorted(df.columns)]
    row = df.select(
        F.xxhash64(*cols).alias("h1"), F.xxhash64(F.lit("drift_audit"), *cols).alias("h2")
    ).agg(F.count(F.lit(1)).alias("n"), F.sum("h1").alias("s1"), F.sum("h2").alias("s2")).first()
    assert row is not None
    n, s1, s2 = int(row["n"]), int(row["s1"] or 0), int(row["s2"] or 0)
    return n, f"{n:x}-{s1 & (2**64 - 1):016x}{s2 & (2**64 - 1):016x}"


def stable_layout(df: DataFrame, keys: Sequence[str], order: Sequence[str], files: int) -> DataFrame:
    """Hash-partition and sort so the same rows are always written as the same bytes."""
    return df.repartition(files, *[F.col(k) for k in keys]).sortWithinPartitions(*keys, *order)


def align_point_in_time(
    online: DataFrame,
    offline: DataFrame,
    keys: Sequence[str],
    event_ts: str,
    created_ts: str | None,
    features: Sequence[str],
    ttl_seconds: float,
) -> DataFrame:
    """Join each online value to the offline row of the same entity as of the value's timestamp.

    Feast semantics: the newest offline row with event_ts <= the value's timestamp and not older than the
    TTL; ties on event_ts go to the newest created timestamp. Adds `_offline_ts`, `_offline_latest_ts`
    (newest offline event of the entity at or before the value) and `<feature>__offline` columns; online
    values with no offline row in range keep nulls there.
    """
    on = online.withColumn("_row", F.monotonically_increasing_id())
    off_cols = [F.col(k).alias(f"_k_{k}") for k in keys] + [F.col(event_ts).alias("_offline_ts")]
    off_cols.append((F.col(created_ts) if created_ts else F.lit(None).cast("timestamp")).alias("_offline_created"))
    off_cols += [F.col(f).alias(f"{f}__offline") for f in features]
    off = offline.select(*off_cols)
    cond = [on[k] == off[f"_k_{k}"] for k in keys]
    cond += [
        off["_offline_ts"] <= on["_value_ts"],
        off["_offline_ts"] >= on["_value_ts"] - F.expr(f"INTERVAL {int(ttl_seconds)} SECONDS"),
    ]
    joined = on.join(off, on=cond, how="left")
    ranked = joined.withColumn(
        "_rank",
        F.row_number().over(
            Window.partitionBy("_row").orderBy(
                F.col("_offline_ts").desc_nulls_last(), F.col("_offline_created").desc_nulls_last(),
                *[F.col(f"{f}__offline").asc_nulls_last() for f in features],
            )
        ),
    )
    matched = ranked.where(F.col("_rank") == 1).drop("_rank", "_offline_created", *[f"_k_{k}" for k in keys])
    latest = offline.groupBy(*keys).agg(F.max(event_ts).alias("_entity_latest_ts"))
    result = matched.join(latest, on=list(keys), how="left")
    return result.drop("_row")
