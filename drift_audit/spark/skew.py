"""Row-level parity between each online value and the offline value aligned to it (see sample.align_point_in_time).

One aggregation job for all features (long format) plus small ones for sentinels and circular shifts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from drift_audit.core.summaries import SkewSummary
from drift_audit.spark.sample import positive_mod

UNIT_FACTORS = (100.0, 0.01, 1000.0, 0.001, 60.0, 1 / 60, 3600.0, 1 / 3600, 86400.0, 1 / 86400, 1e6, 1e-6)


def skew_summaries(
    aligned: DataFrame,
    kinds: Mapping[str, str],
    tolerance: float,
    periods: Mapping[str, int] | None = None,
) -> dict[tuple[str, str], SkewSummary]:
    """{(feature, source): summary}; `kinds` maps feature -> "numeric" | "categorical"; `periods` maps
    cyclic features (hour of day: 24) to their period, for the circular-shift histogram."""
    features = list(kinds)
    if not features:
        return {}
    items = [F.struct(
        F.lit(f).alias("feature"),
        F.col(f).cast("string").alias("on_s"), F.col(f"{f}__offline").cast("string").alias("off_s"),
        (F.col(f).cast("double") if kinds[f] == "numeric" else F.lit(None).cast("double")).alias("on"),
        (F.col(f"{f}__offline").cast("double") if kinds[f] == "numeric" else F.lit(None).cast("double")).alias("off"),
    ) for f in features]
    long = aligned.select(F.col("_source").alias("side"), F.col("_offline_ts").isNotNull().alias("aligned"),
                          F.explode(F.array(*items)).alias("p")).select("side", "aligned", "p.*")
    on_null, off_null = F.col("on_s").isNull(), F.col("off_s").isNull()
    both = ~on_null & ~off_null & F.col("aligned")
    numeric = F.col("on").isNotNull() & F.col("off").isNotNull()
    diff = F.abs(F.col("on") - F.col("off"))
    close = F.when(numeric, diff <= F.lit(tolerance) * F.greatest(F.lit(1.0), F.abs(F.col("off")))).otherwise(
        F.col("on_s") == F.col("off_s"))
    ratio_ok = numeric & (F.col("on") != 0) & (F.col("off") != 0) & (F.signum("on") == F.signum("off"))
    log_ratio = F.when(ratio_ok & both, F.log(F.col("on") / F.col("off")))
    aggs = [
        F.count(F.lit(1)).alias("values"),
        F.sum(F.col("aligned").cast("int")).alias("aligned_n"),
        F.sum(F.when(F.col("aligned") & on_null & off_null, 1).otherwise(0)).alias("both_null"),
        F.sum(F.when(F.col("aligned") & off_null & ~on_null, 1).otherwise(0)).alias("off_null_on_val"),
        F.sum(F.when(F.col("aligned") & ~off_null & on_null, 1).otherwise(0)).alias("off_val_on_null"),
        F.sum(F.when(both, 1).otherwise(0)).alias("compared"),
        F.sum(F.when(both & close, 1).otherwise(0)).alias("matches"),
        F.sum(F.when(both & ~close, 1).otherwise(0)).alias("beyond"),
        F.sum(F.when(both & numeric, diff).otherwise(0.0)).alias("abs_diff"),
        F.avg(F.when(both & numeric, F.col("on"))).alias("on_mean"),
        F.avg(F.when(both & numeric, F.col("off"))).alias("off_mean"),
        F.avg(log_ratio).alias("lr_mean"), F.stddev_samp(log_ratio).alias("lr_std"), F.count(log_ratio).alias("lr_n"),
    ]
    aggs += [F.sum(F.when(both & ratio_ok & (F.abs(F.col("on") / F.col("off") / F.lit(k) - 1) < 0.01), 1)
                   .otherwise(0)).alias(f"factor_{i}") for i, k in enumerate(UNIT_FACTORS)]
    rows = long.groupBy("feature", "side").agg(*aggs).collect()  # bounded: one row per (feature, source)

    sentinel_rows = (long.where(F.col("aligned") & off_null & ~on_null).groupBy("feature", "side", "on_s").count()
                     .withColumn("r", F.row_number().over(Window.partitionBy("feature", "side").orderBy(
                         F.col("count").desc(), F.col("on_s")))).where(F.col("r") <= 3).collect())
    sentinels: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for r in sorted(sentinel_rows, key=lambda r: r["r"]):
        sentinels[(r["feature"], r["side"])].append((r["on_s"], int(r["count"])))

    shifts: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    if periods:
        cyc = long.where(F.col("feature").isin(list(periods)) & F.col("aligned") & F.col("on").isNotNull()
                         & F.col("off").isNotNull())
        period = F.create_map(*[x for f, p in periods.items() for x in (F.lit(f), F.lit(p))])[F.col("feature")]
        shift_rows = cyc.groupBy("feature", "side", positive_mod(F.round(F.col("on") - F.col("off")).cast("long"),
                                                                 period.cast("long")).alias("shift")).count().collect()
        for r in shift_rows:
            shifts[(r["feature"], r["side"])].append((int(r["shift"]), int(r["count"])))

    out = {}
    for r in rows:
        key = (r["feature"], r["side"])
        out[key] = SkewSummary(
            feature=r["feature"], side=r["side"], values=int(r["values"]), aligned=int(r["aligned_n"]),
            both_null=int(r["both_null"]), offline_null_online_value=int(r["off_null_on_val"]),
            offline_value_online_null=int(r["off_val_on_null"]), compared=int(r["compared"]),
            matches=int(r["matches"]) + int(r["both_null"]), beyond_tolerance=int(r["beyond"]),
            abs_diff_sum=float(r["abs_diff"] or 0.0), sentinels=tuple(sentinels.get(key, ())),
            log_ratio_mean=r["lr_mean"], log_ratio_std=r["lr_std"], ratio_pairs=int(r["lr_n"]),
            circular_shifts=tuple(sorted(shifts.get(key, ()), key=lambda t: (-t[1], t[0]))),
            factor_shares=tuple((k, int(r[f"factor_{i}"]) / int(r["compared"]) if r["compared"] else 0.0)
                                for i, k in enumerate(UNIT_FACTORS)),
            online_mean=r["on_mean"], offline_mean=r["off_mean"],
        )
    return out


def active_sources(aligned: DataFrame) -> list[str]:
    """Source labels present in an online sample (bounded: one row per source)."""
    return sorted(r["_source"] for r in aligned.select("_source").distinct().collect())


def freshness(aligned: DataFrame, partition_end_col: str = "_partition_end") -> Sequence[dict]:
    """Per source: values, newest and oldest value time, and the lag of the values behind the partition end
    (exact median and p95, min = the newest value's lag, max), plus how far they trail the newest offline row."""
    lag_sql = f"unix_timestamp({partition_end_col}) - unix_timestamp(_value_ts)"
    lag = F.expr(lag_sql)
    rows = aligned.groupBy("_source").agg(
        F.count(F.lit(1)).alias("values"),
        F.max("_value_ts").alias("newest"), F.min("_value_ts").alias("oldest"),
        F.expr(f"percentile({lag_sql}, array(0.5, 0.95))").alias("q"), F.min(lag).alias("min_lag_s"), F.max(lag).alias("max_lag_s"),
        F.avg(F.unix_timestamp("_entity_latest_ts") - F.unix_timestamp("_value_ts")).alias("mean_behind_offline_s"),
    ).collect()  # bounded: one row per source
    out = []
    for r in sorted(rows, key=lambda r: r["_source"]):
        d = r.asDict()
        q = d.pop("q") or [None, None]
        out.append({**d, "median_lag_s": q[0], "p95_lag_s": q[1]})
    return out
