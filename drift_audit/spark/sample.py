"""Deterministic entity sampling, point-in-time alignment and order-independent content hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from drift_audit.core.contract import UNTOKENIZED, Feature, token_pattern
from drift_audit.core.hashing import sha256_text

HASH_SCALE = 1_000_000_000  # sampling resolution: rates are honoured to 1e-9


def sample_rate(estimated_rows: int, max_rows: int, configured: float | None) -> float:
    """The configured rate, or the largest rate whose expected sample has at most `max_rows` rows."""
    if configured is not None:
        return configured
    if estimated_rows <= max_rows:
        return 1.0
    return max_rows / estimated_rows


def entity_bucket(keys: Sequence[str], seed: int) -> Column:
    """A seeded hash of the entity key in [0, HASH_SCALE): the same entity always lands in the same bucket.

    Keys are hashed as strings, so an int32 key offline and an int64 (or JSON) key in a log pick the same
    entities."""
    return positive_mod(F.xxhash64(F.lit(seed).cast("long"), *[F.col(k).cast("string") for k in keys]), HASH_SCALE)


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
    """(rows, hash) of the multiset of rows and the schema: order-independent sums of two seeded 64-bit
    row hashes (docs/sampling.md).

    Sums wrap modulo 2^64, so the result does not depend on partitioning or row order. Each row hash covers
    the null mask too (Spark's hashes skip nulls, so (null, 1) and (1, null) would collide otherwise), and
    the column names and types are hashed beside the sums. Two different multisets collide with
    probability about 2^-128 for accidental changes (not a defence against an adversary, which the file
    sha256 in the same metadata covers)."""
    names = sorted(df.columns)
    cols = [F.col(f"`{c}`") for c in names] + [F.col(f"`{c}`").isNull() for c in names]
    row = df.select(
        F.xxhash64(*cols).alias("h1"), F.xxhash64(F.lit("drift_audit"), *cols).alias("h2")
    ).agg(F.count(F.lit(1)).alias("n"), F.sum("h1").alias("s1"), F.sum("h2").alias("s2")).first()
    assert row is not None
    n, s1, s2 = int(row["n"]), int(row["s1"] or 0), int(row["s2"] or 0)
    types = sha256_text(",".join(f"{f.name}:{f.dataType.simpleString()}"
                                 for f in sorted(df.schema.fields, key=lambda f: f.name)))[:16]
    return n, f"{n:x}-{s1 & (2**64 - 1):016x}{s2 & (2**64 - 1):016x}-{types}"


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
    partition_end: datetime,
) -> DataFrame:
    """Join each online value to the offline row of the same entity as of the value's timestamp.

    Feast semantics: the newest offline row with value_ts - TTL <= event_ts <= value_ts (both ends
    inclusive); ties on event_ts go to the newest created timestamp, then to the smallest values (so the
    result never depends on row order). Adds `_offline_ts` and `<feature>__offline` (null when no offline
    row is in range), and the freshness of each value:

    - `_entity_latest_ts`: the newest offline event of the entity known when the value was served
      (at `_request_ts`, or at the partition end when the source has no request time), TTL ignored;
    - `_lag_offline_s`: `_entity_latest_ts - _value_ts` in seconds (0 = as fresh as offline, > 0 = stale);
    - `_lag_partition_end_s`: partition end - `_value_ts` in seconds; and `_partition_end`.
    """
    end = F.lit(partition_end).cast("timestamp")
    on = online.withColumn("_row", F.monotonically_increasing_id()).withColumn(
        "_as_of", F.coalesce(F.col("_request_ts"), end))
    off_cols = [F.col(k).alias(f"_k_{k}") for k in keys] + [F.col(event_ts).alias("_off_ts")]
    off_cols.append((F.col(created_ts) if created_ts else F.lit(None).cast("timestamp")).alias("_off_created"))
    off_cols += [F.col(f).alias(f"_off_{f}") for f in features]
    off = offline.select(*off_cols)
    cond = [on[k] == off[f"_k_{k}"] for k in keys]
    cond.append(off["_off_ts"] <= F.greatest(on["_value_ts"], on["_as_of"]))
    joined = on.join(off, on=cond, how="left")
    in_range = ((F.col("_off_ts") <= F.col("_value_ts"))
                & (F.col("_off_ts") >= F.col("_value_ts") - F.expr(f"INTERVAL {int(ttl_seconds)} SECONDS")))
    order = [F.col("_in_range").desc(), F.col("_off_ts").desc_nulls_last(), F.col("_off_created").desc_nulls_last(),
             *[F.col(f"_off_{f}").asc_nulls_last() for f in features]]
    # partitioned by the join keys too, so the join's shuffle serves the window; one sort for both columns
    by_value = Window.partitionBy(*keys, "_row").orderBy(*order)
    whole = by_value.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    best = joined.withColumn("_in_range", F.coalesce(in_range, F.lit(False))).select(
        "*", F.row_number().over(by_value).alias("_rank"),
        F.max(F.when(F.col("_off_ts") <= F.col("_as_of"), F.col("_off_ts"))).over(whole).alias("_entity_latest_ts"),
    ).where(F.col("_rank") == 1)
    kept = [F.when(F.col("_in_range"), F.col("_off_ts")).alias("_offline_ts")]
    kept += [F.when(F.col("_in_range"), F.col(f"_off_{f}")).alias(f"{f}__offline") for f in features]
    seconds = F.col("_value_ts").cast("double")
    return best.select(
        *online.columns, *kept, "_entity_latest_ts",
        (F.col("_entity_latest_ts").cast("double") - seconds).alias("_lag_offline_s"),
        (end.cast("double") - seconds).alias("_lag_partition_end_s"), end.alias("_partition_end"),
    )


def mask_pii(df: DataFrame, features: Sequence[Feature]) -> DataFrame:
    """Spark twin of core.contract.masked_pii: raw values of PII features never enter a sample."""
    for feat in features:
        if not feat.is_pii or feat.name not in df.columns:
            continue
        col = F.col(feat.name).cast("string")
        keep = col.startswith(UNTOKENIZED)  # already masked: masking is idempotent
        pattern = token_pattern(feat)
        if pattern is not None:
            keep = keep | col.rlike(pattern)
        df = df.withColumn(feat.name, F.when(keep, col).otherwise(F.concat(F.lit(UNTOKENIZED), F.sha2(col, 256))))
    return df
