"""Shape summaries of the offline partition and each online source, for the distribution-only cause checks.

Features are stacked long once (feature, side, numeric value, string value); one job gives counts, means
and the rows holding each candidate default value, one gives exact quantiles on a fixed grid (distinct
value -> count, running sums, the first value whose cumulative share reaches each grid point), one the
histograms of cyclic features and one the time-of-day histograms of the timestamps. Only per-feature,
per-grid-point and per-bin rows reach the driver.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from drift_audit.core.contract import Feature
from drift_audit.core.shapes import QUANTILE_GRID, TIME_BINS_PER_HOUR, Shape, TimeOfDay
from drift_audit.spark.sample import positive_mod

BASE_SENTINELS = ("0", "-1", "", "false")


def _candidates(features: Sequence[Feature]) -> list[str]:
    extra = {f.default_value for f in features if f.default_value}
    return sorted(set(BASE_SENTINELS) | extra)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _stack(df: DataFrame, side: Column, features: Sequence[Feature]) -> DataFrame:
    items = [F.struct(
        F.lit(f.name).alias("feature"),
        (F.col(f.name).cast("double") if f.kind == "numeric" else F.lit(None).cast("double")).alias("num"),
        F.col(f.name).cast("string").alias("str"),
    ) for f in features]
    return df.select(side.alias("side"), F.explode(F.array(*items)).alias("p")).select("side", "p.*")


def shapes(offline: DataFrame, online: DataFrame, features: Sequence[Feature],
           periods: Mapping[str, int]) -> dict[tuple[str, str], Shape]:
    """{(feature, side): Shape} for the non-PII features present on both sides; side "offline" is `offline`
    (the partition's rows), the others the `_source` labels of `online`."""
    feats = [f for f in features if not f.is_pii and f.name in offline.columns and f.name in online.columns]
    if not feats:
        return {}
    long = _stack(offline, F.lit("offline"), feats).unionByName(_stack(online, F.col("_source"), feats))
    num, text = F.col("num"), F.col("str")
    missing = text.isNull() | (num.isNotNull() & F.isnan(num))
    candidates = _candidates(feats)

    def holds(value: str) -> Column:
        as_text = num.isNull() & (text == F.lit(value))
        return (num.isNotNull() & (num == F.lit(float(value))) | as_text) if _is_number(value) else as_text

    aggs = [F.count(F.lit(1)).alias("rows"), F.sum(F.when(missing, 1).otherwise(0)).alias("nulls"),
            F.count(F.when(~missing, num)).alias("count"), F.avg(F.when(~missing, num)).alias("mean")]
    aggs += [F.sum(F.when(holds(c), 1).otherwise(0)).alias(f"s{i}") for i, c in enumerate(candidates)]
    base = long.groupBy("feature", "side").agg(*aggs).collect()  # bounded: one row per (feature, side)

    values = long.where(num.isNotNull() & ~F.isnan(num))
    quantiles = _quantiles(values)
    cyclic: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    if periods:
        period = F.create_map(*[x for f, p in periods.items() for x in (F.lit(f), F.lit(p))])[F.col("feature")]
        rows = (values.where(F.col("feature").isin(list(periods)))
                .groupBy("feature", "side", positive_mod(F.round(num).cast("long"), period.cast("long")).alias("v"))
                .count().collect())  # bounded: <= period rows per (feature, side)
        for r in rows:
            cyclic[(r["feature"], r["side"])].append((int(r["v"]), int(r["count"])))
    out = {}
    for r in base:
        key = (r["feature"], r["side"])
        out[key] = Shape(
            feature=r["feature"], side=r["side"], rows=int(r["rows"]), nulls=int(r["nulls"]), count=int(r["count"]),
            mean=r["mean"], quantiles=tuple(quantiles.get(key, ())), cyclic=tuple(sorted(cyclic.get(key, ()))),
            sentinels=tuple((c, int(r[f"s{i}"])) for i, c in enumerate(candidates) if r[f"s{i}"]),
        )
    return out


def _quantiles(values: DataFrame) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Exact lower quantiles: for grid point k/m, the smallest value whose cumulative count reaches k*n/m."""
    m = len(QUANTILE_GRID) + 1
    counts = values.groupBy("feature", "side", "num").agg(F.count(F.lit(1)).alias("c"))
    ordered = Window.partitionBy("feature", "side").orderBy("num").rowsBetween(Window.unboundedPreceding, 0)
    table = counts.select("*", F.sum("c").over(ordered).alias("cum"),
                          F.sum("c").over(Window.partitionBy("feature", "side")).alias("n"))
    grid = values.sparkSession.range(1, m).withColumnRenamed("id", "k")
    hit = table.crossJoin(F.broadcast(grid)).where(
        (F.col("cum") * m >= F.col("k") * F.col("n")) & ((F.col("cum") - F.col("c")) * m < F.col("k") * F.col("n")))
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in sorted(hit.select("feature", "side", "k", "num").collect(),  # bounded: 19 per (feature, side)
                    key=lambda r: (r["feature"], r["side"], r["k"])):
        out[(r["feature"], r["side"])].append((r["k"] / m, float(r["num"])))
    return out


def time_of_day(offline: DataFrame, online: DataFrame, keys: Sequence[str], event_ts: str) -> dict[str, TimeOfDay]:
    """{side: histogram}: offline, each entity's newest event of the partition; online, each served value."""
    def minute_bin(col: Column) -> Column:
        return F.floor((F.hour(col) * 60 + F.minute(col)) / (60 // TIME_BINS_PER_HOUR)).cast("int")

    newest = offline.groupBy(*keys).agg(F.max(F.col(event_ts).cast("timestamp")).alias("ts"))
    both = newest.select(F.lit("offline").alias("side"), minute_bin(F.col("ts")).alias("bin")).unionByName(
        online.where(F.col("_value_ts").isNotNull()).select(F.col("_source").alias("side"),
                                                             minute_bin(F.col("_value_ts")).alias("bin")))
    rows = both.where(F.col("bin").isNotNull()).groupBy("side", "bin").count().collect()  # bounded: <= 96 per side
    hist: dict[str, list[int]] = defaultdict(lambda: [0] * (24 * TIME_BINS_PER_HOUR))
    for r in rows:
        hist[r["side"]][int(r["bin"])] = int(r["count"])
    return {side: TimeOfDay(side, sum(b), tuple(b)) for side, b in sorted(hist.items())}
