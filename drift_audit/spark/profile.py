"""Distribution summaries of every feature of a group in a fixed number of Spark jobs.

Features are reshaped to long format (feature, side, value) once. Numeric features: one moments job and
one exact-ECDF job (distinct value -> count per side, running sums in a window) that yields KS,
Wasserstein, the reference-quantile PSI bins and, for low-cardinality features, the exact histogram.
Categorical features: one counts job and one top-k job. The number of jobs does not grow with the
number of features; only per-feature, per-bin and per-category rows reach the driver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from drift_audit.core.summaries import Bin, CategoricalSummary, Moments, NumericSummary

REF = "__reference__"
OTHER = "__other__"
LOW_CARDINALITY = 64
NEW_EXAMPLES = 5


def _long(ref: DataFrame, cur: DataFrame, features: Sequence[str], cast: str) -> DataFrame:
    def stack(df: DataFrame, side: Column) -> DataFrame:
        items = [F.struct(F.lit(f).alias("feature"), F.col(f).cast(cast).alias("value")) for f in features]
        return df.select(side.alias("side"), F.explode(F.array(*items)).alias("kv")).select(
            "side", "kv.feature", "kv.value")

    return stack(ref, F.lit(REF)).unionByName(stack(cur, F.col("_source")))


def _finite(col: Column) -> Column:
    return ~F.isnan(col) & (col != F.lit(math.inf)) & (col != F.lit(-math.inf))


def numeric_summaries(
    ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str], bins: int
) -> dict[tuple[str, str], NumericSummary]:
    """{(feature, side): summary} comparing `ref` with each `_source` side of `cur`."""
    if not features:
        return {}
    long = _long(ref, cur, features, "double")
    moments = _moments(long)
    all_sides = [REF, *sides]
    cnt = [F.sum(F.when(F.col("side") == s, 1).otherwise(0)).alias(f"c{i}") for i, s in enumerate(all_sides)]
    ecdf = long.where(F.col("value").isNotNull() & _finite(F.col("value"))).groupBy("feature", "value").agg(*cnt)
    ordered = Window.partitionBy("feature").orderBy("value")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy("feature")
    cols = [F.col("feature"), F.col("value"), *[F.col(f"c{i}") for i in range(len(all_sides))],
            F.lead("value").over(ordered).alias("next"), F.count(F.lit(1)).over(whole).alias("distinct")]
    cols += [F.sum(f"c{i}").over(running).alias(f"cum{i}") for i in range(len(all_sides))]
    cols += [F.sum(f"c{i}").over(whole).alias(f"n{i}") for i in range(len(all_sides))]
    table = ecdf.select(*cols)
    frac = [F.col(f"cum{i}") / F.col(f"n{i}") for i in range(len(all_sides))]
    diffs = [F.abs(frac[0] - frac[i]) for i in range(1, len(all_sides))]
    bin_index = F.least(F.lit(bins - 1), F.floor(F.lit(bins) * (F.col("cum0") - F.col("c0")) / F.col("n0")))
    exact = F.when(F.col("distinct") <= LOW_CARDINALITY, F.col("value"))
    aggs = [F.sum(f"c{i}").alias(f"c{i}") for i in range(len(all_sides))]
    aggs += [F.min("value").alias("lo"), F.max("value").alias("hi")]
    aggs += [F.max(d).alias(f"ks{i + 1}") for i, d in enumerate(diffs)]
    aggs += [F.sum(d * (F.col("next") - F.col("value"))).alias(f"w{i + 1}") for i, d in enumerate(diffs)]
    rows = (table.withColumn("bin", bin_index.cast("int")).withColumn("exact", exact)
            .groupBy("feature", "bin", "exact").agg(*aggs).collect())  # bounded: <= bins + 64 per feature

    per_feature: dict[str, list] = defaultdict(list)
    for row in rows:
        per_feature[row["feature"]].append(row)
    out = {}
    for feature in features:
        frows = per_feature.get(feature, [])
        for si, side in enumerate(sides, start=1):
            bins_acc: dict[int, list[float]] = {}
            for r in frows:
                if r["bin"] is None:
                    continue
                acc = bins_acc.setdefault(r["bin"], [r["lo"], r["hi"], 0, 0])
                acc[0], acc[1] = min(acc[0], r["lo"]), max(acc[1], r["hi"])
                acc[2] += r["c0"]
                acc[3] += r[f"c{si}"]
            out[(feature, side)] = NumericSummary(
                feature=feature, side=side,
                ref=moments.get((feature, REF), _EMPTY), cur=moments.get((feature, side), _EMPTY),
                ks=max((r[f"ks{si}"] or 0.0 for r in frows), default=0.0),
                wasserstein=sum(r[f"w{si}"] or 0.0 for r in frows),
                bins=tuple(Bin(i, a[0], a[1], int(a[2]), int(a[3])) for i, a in sorted(bins_acc.items())),
                exact=tuple(sorted((r["exact"], int(r["c0"]), int(r[f"c{si}"]))
                                   for r in frows if r["exact"] is not None)),
            )
    return out


_EMPTY = Moments(0, 0, 0, 0, 0, 0, None, None, None, None)


def _moments(long: DataFrame) -> dict[tuple[str, str], Moments]:
    v = F.col("value")
    finite = F.when(v.isNotNull() & _finite(v), v)
    rows = long.groupBy("feature", "side").agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(v.isNull() | F.isnan(v), 1).otherwise(0)).alias("nulls"),
        F.sum(F.when(F.isnan(v), 1).otherwise(0)).alias("nan"),
        F.sum(F.when(v == F.lit(math.inf), 1).otherwise(0)).alias("pos_inf"),
        F.sum(F.when(v == F.lit(-math.inf), 1).otherwise(0)).alias("neg_inf"),
        F.count(finite).alias("count"), F.avg(finite).alias("mean"), F.stddev_samp(finite).alias("std"),
        F.min(finite).alias("min"), F.max(finite).alias("max"),
    ).collect()  # bounded: one row per (feature, side)
    return {(r["feature"], r["side"]): Moments(
        rows=int(r["rows"]), nulls=int(r["nulls"]), nan=int(r["nan"]), pos_inf=int(r["pos_inf"]),
        neg_inf=int(r["neg_inf"]), count=int(r["count"]), mean=r["mean"],
        std=None if r["std"] is None or (isinstance(r["std"], float) and math.isnan(r["std"])) else r["std"],
        min=r["min"], max=r["max"]) for r in rows}


def categorical_summaries(
    ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str], top_k: int
) -> dict[tuple[str, str], CategoricalSummary]:
    """{(feature, side): summary}: top-k categories by total count plus "__other__", and new/missing."""
    if not features:
        return {}
    long = _long(ref, cur, features, "string")
    totals = {(r["feature"], r["side"]): (int(r["rows"]), int(r["nulls"])) for r in long.groupBy("feature", "side").agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.when(F.col("value").isNull(), 1).otherwise(0)).alias("nulls"),
    ).collect()}  # bounded: one row per (feature, side)
    all_sides = [REF, *sides]
    cnt = [F.sum(F.when(F.col("side") == s, 1).otherwise(0)).alias(f"c{i}") for i, s in enumerate(all_sides)]
    counts = long.where(F.col("value").isNotNull()).groupBy("feature", "value").agg(*cnt)
    total = sum((F.col(f"c{i}") for i in range(len(all_sides))), F.lit(0))
    rank = F.row_number().over(Window.partitionBy("feature").orderBy(total.desc(), F.col("value")))
    only_new = F.col("c0") == 0
    new_rank = F.row_number().over(Window.partitionBy("feature", only_new).orderBy(total.desc(), F.col("value")))
    gone = [F.col(f"c{i}") == 0 for i in range(1, len(all_sides))]
    gone_any = F.lit(False)
    for g in gone:
        gone_any = gone_any | g
    gone_rank = F.row_number().over(Window.partitionBy("feature", gone_any).orderBy(F.col("c0").desc(), F.col("value")))
    keep = (F.col("rank") <= top_k) | (only_new & (F.col("new_rank") <= NEW_EXAMPLES)) | (
        gone_any & (F.col("gone_rank") <= NEW_EXAMPLES))
    aggs = [F.sum(f"c{i}").alias(f"c{i}") for i in range(len(all_sides))]
    for i in range(1, len(all_sides)):
        aggs += [
            F.sum(F.when(only_new & (F.col(f"c{i}") > 0), 1).otherwise(0)).alias(f"new{i}"),
            F.sum(F.when(only_new, F.col(f"c{i}")).otherwise(0)).alias(f"newrows{i}"),
            F.sum(F.when((F.col(f"c{i}") == 0) & (F.col("c0") > 0), 1).otherwise(0)).alias(f"miss{i}"),
            F.sum(F.when(F.col(f"c{i}") == 0, F.col("c0")).otherwise(0)).alias(f"missrows{i}"),
            F.sum(F.when(F.col(f"c{i}") > 0, 1).otherwise(0)).alias(f"cats{i}"),
        ]
    aggs.append(F.sum(F.when(F.col("c0") > 0, 1).otherwise(0)).alias("cats0"))
    ranked = counts.select("*", rank.alias("rank"), new_rank.alias("new_rank"), gone_rank.alias("gone_rank"))
    grouped = ranked.groupBy("feature", F.when(keep, F.col("value")).otherwise(F.lit(OTHER)).alias("category"))
    rows = grouped.agg(*aggs).collect()  # bounded: <= top_k + 11 per feature
    per_feature: dict[str, list] = defaultdict(list)
    for row in rows:
        per_feature[row["feature"]].append(row)
    out = {}
    for feature in features:
        frows = per_feature.get(feature, [])
        for si, side in enumerate(sides, start=1):
            named = [r for r in frows if r["category"] != OTHER]
            other = [r for r in frows if r["category"] == OTHER]
            counts_list = sorted(((r["category"], int(r["c0"]), int(r[f"c{si}"])) for r in named
                                  if r["c0"] or r[f"c{si}"]), key=lambda t: (-(t[1] + t[2]), t[0]))
            if other and (other[0]["c0"] or other[0][f"c{si}"]):
                counts_list.append((OTHER, int(other[0]["c0"]), int(other[0][f"c{si}"])))
            ref_rows, ref_nulls = totals.get((feature, REF), (0, 0))
            cur_rows, cur_nulls = totals.get((feature, side), (0, 0))
            out[(feature, side)] = CategoricalSummary(
                feature=feature, side=side, ref_rows=ref_rows, cur_rows=cur_rows, ref_nulls=ref_nulls,
                cur_nulls=cur_nulls, counts=tuple(counts_list),
                ref_categories=sum(int(r["cats0"]) for r in frows),
                cur_categories=sum(int(r[f"cats{si}"]) for r in frows),
                new_categories=sum(int(r[f"new{si}"]) for r in frows),
                new_rows=sum(int(r[f"newrows{si}"]) for r in frows),
                missing_categories=sum(int(r[f"miss{si}"]) for r in frows),
                missing_rows=sum(int(r[f"missrows{si}"]) for r in frows),
                new_examples=tuple(sorted((r["category"] for r in named if r["c0"] == 0 and r[f"c{si}"] > 0),
                                          key=lambda c: c)[:NEW_EXAMPLES]),
                missing_examples=tuple(sorted(r["category"] for r in named
                                              if r[f"c{si}"] == 0 and r["c0"] > 0)[:NEW_EXAMPLES]),
            )
    return out
