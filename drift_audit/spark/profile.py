"""Distribution summaries of every feature of a group in a fixed number of Spark jobs.

Features are reshaped to long format (feature, side, value) inside each job; the number of jobs does not
grow with the number of features, and only per-feature, per-bin and per-category rows reach the driver.

Numeric features are exact and scan-bounded (docs/statistics.md, "Algorithm"):
1. moments: counts, mean, sample std, min and max per (feature, side);
2. fine histogram: `K` equal-width bins per feature between its finite min and max; per bin and side the
   count and the sum of (value - bin anchor), and the smallest and largest value of the bin;
3. from the cumulative bin counts every bin is settled or flagged. A bin is settled when F_ref - F_cur
   keeps its sign inside it (its Wasserstein part is then exact from counts and sums), cannot exceed the
   KS lower bound there, and holds no reference-quantile boundary; a bin of one distinct value always is;
4. exact pass: the ECDF (distinct value -> counts, running sums) over the values of flagged bins only,
   offset by their bins' cumulative counts.
Categorical features: one counts job and one top-k job.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Row, Window
from pyspark.sql import functions as F

from drift_audit.core.summaries import Bin, CategoricalSummary, Moments, NumericSummary

REF = "__reference__"
OTHER = "__other__"
LOW_CARDINALITY = 64
NEW_EXAMPLES = 5
FINE_BINS_MAX = 1 << 16  # fine bins per feature
FINE_BINS_MIN = 256
FINE_BINS_BUDGET = 1 << 21  # fine bins over all features: bounds what one job holds per task


def _side_index(cur: DataFrame, sides: Sequence[str]) -> Column:
    idx: Column = F.lit(None).cast("int")
    for i, s in reversed(list(enumerate(sides, start=1))):
        idx = F.when(F.col("_source") == s, F.lit(i)).otherwise(idx)
    return idx


def _long(ref: DataFrame, cur: DataFrame, sides: Sequence[str], per_feature: Sequence[Sequence[Column]],
          names: Sequence[str]) -> DataFrame:
    """(si, *names) with one row per (input row, feature): si is 0 for the reference, i for sides[i-1].

    `per_feature[f]` are the columns of feature f, named `names`; `stack` reshapes them without building
    an array per row."""
    flat = [col.alias(f"_{i}_{j}") for i, cols in enumerate(per_feature) for j, col in enumerate(cols)]
    args = ", ".join(f"_{i}_{j}" for i, cols in enumerate(per_feature) for j in range(len(cols)))
    generator = F.expr(f"stack({len(per_feature)}, {args}) as ({', '.join(names)})")

    def one(df: DataFrame, side: Column) -> DataFrame:
        return df.select(side.alias("si"), *flat).where(F.col("si").isNotNull()).select("si", generator)

    return one(ref, F.lit(0)).unionByName(one(cur, _side_index(cur, sides)))


_EMPTY = Moments(0, 0, 0, 0, 0, 0, None, None, None, None)


def _finite(col: Column) -> Column:
    return col.isNotNull() & ~F.isnan(col) & (col != F.lit(math.inf)) & (col != F.lit(-math.inf))


def _moments(ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str]
            ) -> dict[tuple[int, int], Moments]:
    """{(feature index, side index): counts, mean, sample std and finite range}, one job."""
    per_feature = [[F.lit(i), F.col(f).cast("double")] for i, f in enumerate(features)]
    v = F.col("v")
    finite = F.when(_finite(v), v)
    rows = _long(ref, cur, sides, per_feature, ["f", "v"]).groupBy("f", "si").agg(
        F.count(F.lit(1)).alias("rows"), F.count(v).alias("present"),
        F.count(F.when(F.isnan(v), 1)).alias("nan"),
        F.count(F.when(v == F.lit(math.inf), 1)).alias("pos_inf"),
        F.count(F.when(v == F.lit(-math.inf), 1)).alias("neg_inf"),
        F.min(finite).alias("min"), F.max(finite).alias("max"), F.avg(finite).alias("mean"),
        F.stddev_samp(finite).alias("std"),
    ).collect()  # bounded: one row per (feature, side)
    out = {}
    for r in rows:
        rows_, nan, pinf, ninf = int(r["rows"]), int(r["nan"]), int(r["pos_inf"]), int(r["neg_inf"])
        nulls = rows_ - int(r["present"]) + nan
        std = None if r["std"] is None or math.isnan(r["std"]) else r["std"]
        out[(r["f"], r["si"])] = Moments(rows_, nulls, nan, pinf, ninf, rows_ - nulls - pinf - ninf, r["mean"], std,
                                         r["min"], r["max"])
    return out


@dataclass(frozen=True)
class _Grid:
    """Equal-width fine bins of one feature: bin(v) = min(K-1, floor((v/2 - lo/2) / half_width)).

    Halving keeps every step finite for any finite lo <= v; the bin index is monotone in v, which is all
    exactness needs. `half_width` 0 puts everything in bin 0 (a constant or pathological range)."""

    index: int
    lo: float
    half_width: float

    def bin(self, v: Column, k: int) -> Column:
        if self.half_width == 0:
            return F.lit(0).cast("long")
        raw = F.floor((v * 0.5 - F.lit(self.lo * 0.5)) / F.lit(self.half_width))
        return F.least(F.lit(k - 1).cast("long"), F.greatest(F.lit(0).cast("long"), raw))

    def anchor(self, b: Column) -> Column:
        """A point of bin b: sums of (value - anchor) stay as precise as the bin is narrow."""
        return (F.lit(self.lo * 0.5) + b.cast("double") * F.lit(self.half_width)) * 2.0


def _grid(index: int, lo: float, hi: float, k: int) -> _Grid:
    half_width = (hi * 0.5 - lo * 0.5) / k
    if not (math.isfinite(half_width) and half_width >= 2.2250738585072014e-308 * k):
        half_width = 0.0
    return _Grid(index, lo, half_width)


def numeric_summaries(
    ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str], bins: int
) -> dict[tuple[str, str], NumericSummary]:
    """{(feature, side): summary} comparing `ref` with each `_source` side of `cur`."""
    if not features:
        return {}
    moments = _moments(ref, cur, features, sides)
    nside = len(sides) + 1
    ranges = []
    for i in range(len(features)):
        lows = [m.min for s in range(nside) if (m := moments.get((i, s))) and m.min is not None]
        highs = [m.max for s in range(nside) if (m := moments.get((i, s))) and m.max is not None]
        if lows:
            ranges.append((i, min(lows), max(highs)))
    finite: dict[int, int] = defaultdict(int)
    for (i, _s), m in moments.items():
        finite[i] += m.count
    most = max(finite.values(), default=0)
    k = max(FINE_BINS_MIN, min(FINE_BINS_MAX, FINE_BINS_BUDGET // max(1, len(ranges)), most // 8))
    grids = [_grid(i, lo, hi, k) for i, lo, hi in ranges]
    results = _ecdf(ref, cur, features, sides, grids, k, bins) if grids else {}
    out = {}
    for i, feature in enumerate(features):
        for si, side in enumerate(sides, start=1):
            acc = results.get((i, si), _Acc())
            out[(feature, side)] = NumericSummary(
                feature=feature, side=side, ref=moments.get((i, 0), _EMPTY),
                cur=moments.get((i, si), _EMPTY), ks=acc.ks, wasserstein=acc.wasserstein,
                bins=acc.bins(), exact=acc.exact_values())
    return out


class _Acc:
    """Per (feature, side): folds the bounded rows of the histogram and exact jobs into the summary."""

    def __init__(self) -> None:
        self.ks = 0.0
        self.wasserstein = 0.0
        self.qbins: dict[int, list] = {}
        self.values: dict[float, tuple[int, int]] = {}
        self.distinct = 0

    def add(self, r: Row, s: int) -> None:
        self.ks = max(self.ks, r[f"ks{s}"] or 0.0)
        self.wasserstein += r[f"w{s}"] or 0.0
        c0, cs = int(r["c0"]), int(r[f"c{s}"])
        if r["q"] is not None and (c0 or cs):
            acc = self.qbins.setdefault(r["q"], [r["lo"], r["hi"], 0, 0])
            acc[0], acc[1] = min(acc[0], r["lo"]), max(acc[1], r["hi"])
            acc[2] += c0
            acc[3] += cs
        if r["x"] is not None:
            self.values[r["x"]] = (c0, cs)

    def bins(self) -> tuple[Bin, ...]:
        return tuple(Bin(q, a[0], a[1], int(a[2]), int(a[3])) for q, a in sorted(self.qbins.items()))

    def exact_values(self) -> tuple[tuple[float, int, int], ...]:
        if self.distinct > LOW_CARDINALITY or not self.values:
            return ()
        return tuple(sorted((v, c0, cs) for v, (c0, cs) in self.values.items()))


def _ecdf(ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str],
          grids: Sequence[_Grid], k: int, bins: int) -> dict[tuple[int, int], _Acc]:
    """Steps 2-4 of the module docstring: KS, Wasserstein, moments, reference-quantile bins, exact tables."""
    nside = len(sides) + 1
    S = range(1, nside)
    c = [F.col(f"c{s}") for s in range(nside)]
    si, value = F.col("si"), F.col("value")

    def finite_long(with_offset: bool) -> DataFrame:
        per_feature = []
        for g in grids:
            v = F.col(features[g.index]).cast("double")
            b = g.bin(v, k)
            per_feature.append([F.lit(g.index * k) + b, v, *([v - g.anchor(b)] if with_offset else [])])
        names = ["key", "value", *(["off"] if with_offset else [])]
        return _long(ref, cur, sides, per_feature, names).where(_finite(value))

    # 2. fine histogram
    off = F.col("off")
    hist = finite_long(True).groupBy("key").agg(
        *[F.count(F.when(si == s, 1)).alias(f"c{s}") for s in range(nside)],
        *[F.sum(F.when(si == s, off).otherwise(0.0)).alias(f"o{s}") for s in range(nside)],
        F.min(value).alias("lo"), F.max(value).alias("hi"))

    # 3. cumulative counts, bounds and flags per bin
    by_index = {g.index: g for g in grids}
    lookup = [by_index.get(i, _Grid(i, 0.0, 0.0)) for i in range(len(features))]
    feature = (F.col("key") / k).cast("int")
    anchor = (F.element_at(F.array(*[F.lit(g.lo * 0.5) for g in lookup]), feature + 1)
              + (F.col("key") - feature * k).cast("double")
              * F.element_at(F.array(*[F.lit(g.half_width) for g in lookup]), feature + 1)) * 2.0
    feat = Window.partitionBy("feature")
    ordered = feat.orderBy("key")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    single = F.col("lo") == F.col("hi")
    t = hist.select("*", feature.alias("feature"), anchor.alias("anchor")).select(
        "*", *[F.sum(c[s]).over(running).alias(f"cum{s}") for s in range(nside)],
        *[F.sum(c[s]).over(feat).alias(f"n{s}") for s in range(nside)],
        F.coalesce(F.lead("lo").over(ordered), F.col("hi")).alias("nxt"),
        F.count(F.lit(1)).over(feat).alias("nonempty"),
        F.sum(F.when(single, 1).otherwise(0)).over(feat).alias("singles"))
    n = [F.when(F.col(f"n{s}") > 0, F.col(f"n{s}")) for s in range(nside)]
    start = [F.col(f"cum{s}") - c[s] for s in range(nside)]
    t = t.select("*", *[(start[0] / n[0] - start[s] / n[s]).alias(f"ds{s}") for s in S],
                 *[(F.col("cum0") / n[0] - F.col(f"cum{s}") / n[s]).alias(f"de{s}") for s in S])
    span = F.col("nxt") - F.col("anchor")
    for s in S:
        ds, de = F.col(f"ds{s}"), F.col(f"de{s}")
        # F_ref - F_cur inside the bin lies in [lb, ub]
        ub = F.least(ds + c[0] / n[0], de + c[s] / n[s])
        lb = F.greatest(ds - c[s] / n[s], de - c[0] / n[0])
        # integral of F_ref - F_cur from the bin's first value to the next bin's, from counts and offsets
        inside = ds * (F.col("nxt") - F.col("lo")) + (c[0] * span - F.col("o0")) / n[0] - (
            c[s] * span - F.col(f"o{s}")) / n[s]
        t = t.select("*", (~single & (F.greatest(F.abs(ub), F.abs(lb)) > F.max(F.abs(de)).over(feat))).alias(f"fk{s}"),
                     (~single & (lb < 0) & (ub > 0)).alias(f"fw{s}"),
                     F.when(single, F.abs(de) * (F.col("nxt") - F.col("lo"))).otherwise(F.abs(inside)).alias(f"w{s}"))
    q_start = F.expr(f"least({bins - 1}, div({bins} * (cum0 - c0), nullif(n0, 0)))")
    q_end = F.expr(f"least({bins - 1}, div({bins} * cum0, nullif(n0, 0)))")
    lowcard = F.col("nonempty") <= LOW_CARDINALITY
    t = t.select("*", q_start.alias("q"), (~single & (q_start != q_end)).alias("fq"), lowcard.alias("lowcard"))
    flagged = F.col("fq") | (F.col("lowcard") & ~single)
    for s in S:
        flagged = flagged | F.col(f"fk{s}") | F.col(f"fw{s}")
    t = t.withColumn("flagged", flagged).cache()
    try:
        settled_rows = t.groupBy(
            "feature", F.when(~F.col("fq"), F.col("q")).alias("q"),
            F.when(F.col("lowcard") & single, F.col("lo")).alias("x")).agg(
            *[F.sum(c[s]).alias(f"c{s}") for s in range(nside)], F.min("lo").alias("lo"), F.max("hi").alias("hi"),
            *[F.max(F.abs(F.col(f"de{s}"))).alias(f"ks{s}") for s in S],
            *[F.sum(F.when(~F.col(f"fw{s}"), F.col(f"w{s}"))).alias(f"w{s}") for s in S],
            F.max("nonempty").alias("nonempty"), F.max("singles").alias("singles"),
        ).collect()  # bounded: <= bins + 1 + 64 per feature
        exact_rows = _exact(finite_long(False), t, bins, nside).collect()  # bounded: <= bins + 1 + 64 per feature
    finally:
        t.unpersist()
    return _assemble(settled_rows, exact_rows, nside)


def _exact(long: DataFrame, t: DataFrame, bins: int, nside: int) -> DataFrame:
    """Step 4: running counts over the distinct values of flagged bins, offset by the bins' cumulative counts."""
    S = range(1, nside)
    c = [F.col(f"c{s}") for s in range(nside)]
    carry = ["feature", "nxt", "fq", "lowcard", "singles", *[f"cum{s}" for s in range(nside)],
             *[f"c{s}" for s in range(nside)], *[f"n{s}" for s in range(nside)], *[f"fw{s}" for s in S]]
    flagged = t.where(F.col("flagged")).select("key", *[F.col(x).alias(f"b_{x}") for x in carry])
    per_value = long.join(F.broadcast(flagged.select("key")), "key", "left_semi").groupBy("key", "value").agg(
        *[F.count(F.when(F.col("si") == s, 1)).alias(f"c{s}") for s in range(nside)]).join(
        F.broadcast(flagged), "key")
    by_value = Window.partitionBy("key").orderBy("value")
    running = by_value.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    n = [F.when(F.col(f"b_n{s}") > 0, F.col(f"b_n{s}")) for s in range(nside)]
    cum = [F.col(f"b_cum{s}") - F.col(f"b_c{s}") + F.sum(c[s]).over(running) for s in range(nside)]
    e = per_value.select(
        F.col("b_feature").alias("feature"), "value", *c, F.col("b_singles").alias("singles"),
        F.col("b_fq").alias("fq"), F.col("b_lowcard").alias("lowcard"), F.col("b_n0").alias("n0"),
        (cum[0] - c[0]).alias("below"), F.coalesce(F.lead("value").over(by_value), F.col("b_nxt")).alias("nv"),
        *[(cum[0] / n[0] - cum[s] / n[s]).alias(f"d{s}") for s in S], *[F.col(f"b_fw{s}").alias(f"fw{s}") for s in S])
    e = e.select("*", F.when(F.col("fq"), F.expr(f"least({bins - 1}, div({bins} * below, nullif(n0, 0)))")).alias("q"),
                 F.when(F.col("lowcard"), F.col("value")).alias("x"))
    grouped = e.groupBy("feature", "q", "x").agg(
        *[F.sum(c[s]).alias(f"c{s}") for s in range(nside)], F.min("value").alias("lo"), F.max("value").alias("hi"),
        *[F.max(F.abs(F.col(f"d{s}"))).alias(f"ks{s}") for s in S],
        *[F.sum(F.when(F.col(f"fw{s}"), F.abs(F.col(f"d{s}")) * (F.col("nv") - F.col("value")))).alias(f"w{s}")
          for s in S],
        F.max("singles").alias("singles"))
    # a low-cardinality candidate (<= 64 nonempty fine bins) with more distinct values keeps no value rows
    distinct = F.count("x").over(Window.partitionBy("feature")) + F.col("singles")
    return grouped.withColumn("distinct", distinct).withColumn(
        "x", F.when(F.col("distinct") <= LOW_CARDINALITY, F.col("x"))).groupBy("feature", "q", "x").agg(
        *[F.sum(c[s]).alias(f"c{s}") for s in range(nside)], F.min("lo").alias("lo"), F.max("hi").alias("hi"),
        *[F.max(f"ks{s}").alias(f"ks{s}") for s in S], *[F.sum(f"w{s}").alias(f"w{s}") for s in S],
        F.max("distinct").alias("distinct"))


def _assemble(settled_rows: list, exact_rows: list, nside: int) -> dict[tuple[int, int], _Acc]:
    info = {}
    for r in settled_rows:
        info[r["feature"]] = (int(r["nonempty"]), int(r["singles"]))
    exact_distinct: dict[int, int] = {}
    for r in exact_rows:
        exact_distinct[r["feature"]] = max(exact_distinct.get(r["feature"], 0), int(r["distinct"]))
    out: dict[tuple[int, int], _Acc] = {}
    def order(r: Row) -> tuple:  # a fixed summation order: the same inputs give the same bits
        return (r["feature"], r["q"] is None, r["q"] or 0, r["x"] is None, r["x"] or 0.0)

    for rows in (settled_rows, exact_rows):
        for r in sorted(rows, key=order):
            for s in range(1, nside):
                acc = out.setdefault((r["feature"], s), _Acc())
                acc.add(r, s)
    for (f, _s), acc in out.items():
        nonempty, singles = info.get(f, (0, 0))
        acc.distinct = nonempty if nonempty > LOW_CARDINALITY or nonempty == singles else exact_distinct.get(f, 0)
    return out


def categorical_summaries(
    ref: DataFrame, cur: DataFrame, features: Sequence[str], sides: Sequence[str], top_k: int
) -> dict[tuple[str, str], CategoricalSummary]:
    """{(feature, side): summary}: top-k categories by total count plus "__other__", and new/missing.

    Categories stay in Spark: ranks are window functions, and only the top-k, a few new and missing
    examples and one "__other__" row per feature come back."""
    if not features:
        return {}
    nside = len(sides) + 1
    S = range(1, nside)
    columns = [[F.lit(i), F.col(f).cast("string")] for i, f in enumerate(features)]
    long = _long(ref, cur, sides, columns, ["f", "value"])
    totals = {(r["f"], r["si"]): (int(r["rows"]), int(r["nulls"])) for r in long.groupBy("f", "si").agg(
        F.count(F.lit(1)).alias("rows"), F.count(F.when(F.col("value").isNull(), 1)).alias("nulls"),
    ).collect()}  # bounded: one row per (feature, side)
    c = [F.col(f"c{s}") for s in range(nside)]
    counts = long.where(F.col("value").isNotNull()).groupBy("f", "value").agg(
        *[F.count(F.when(F.col("si") == s, 1)).alias(f"c{s}") for s in range(nside)])
    total = sum(c, F.lit(0))
    only_new = c[0] == 0
    gone_any = F.lit(False)
    for s in S:
        gone_any = gone_any | (c[s] == 0)
    rank = F.row_number().over(Window.partitionBy("f").orderBy(total.desc(), F.col("value")))
    new_rank = F.row_number().over(Window.partitionBy("f", only_new).orderBy(total.desc(), F.col("value")))
    gone_rank = F.row_number().over(Window.partitionBy("f", gone_any).orderBy(c[0].desc(), F.col("value")))
    keep = (F.col("rank") <= top_k) | (only_new & (F.col("new_rank") <= NEW_EXAMPLES)) | (
        gone_any & (F.col("gone_rank") <= NEW_EXAMPLES))
    aggs = [F.sum(c[s]).alias(f"c{s}") for s in range(nside)]
    for s in S:
        aggs += [
            F.count(F.when(only_new & (c[s] > 0), 1)).alias(f"new{s}"),
            F.sum(F.when(only_new, c[s]).otherwise(0)).alias(f"newrows{s}"),
            F.count(F.when((c[s] == 0) & (c[0] > 0), 1)).alias(f"miss{s}"),
            F.sum(F.when(c[s] == 0, c[0]).otherwise(0)).alias(f"missrows{s}"),
            F.count(F.when(c[s] > 0, 1)).alias(f"cats{s}"),
        ]
    aggs.append(F.count(F.when(c[0] > 0, 1)).alias("cats0"))
    ranked = counts.select("*", rank.alias("rank"), new_rank.alias("new_rank"), gone_rank.alias("gone_rank"))
    grouped = ranked.groupBy("f", F.when(keep, F.col("value")).otherwise(F.lit(OTHER)).alias("category"))
    rows = grouped.agg(*aggs).collect()  # bounded: <= top_k + 11 per feature
    per_feature: dict[int, list] = defaultdict(list)
    for row in rows:
        per_feature[row["f"]].append(row)
    out = {}
    for i, feature in enumerate(features):
        frows = per_feature.get(i, [])
        named = [r for r in frows if r["category"] != OTHER]
        other = [r for r in frows if r["category"] == OTHER]
        for s, side in enumerate(sides, start=1):
            counts_list = sorted(((r["category"], int(r["c0"]), int(r[f"c{s}"])) for r in named
                                  if r["c0"] or r[f"c{s}"]), key=lambda t: (-(t[1] + t[2]), t[0]))
            if other and (other[0]["c0"] or other[0][f"c{s}"]):
                counts_list.append((OTHER, int(other[0]["c0"]), int(other[0][f"c{s}"])))
            ref_rows, ref_nulls = totals.get((i, 0), (0, 0))
            cur_rows, cur_nulls = totals.get((i, s), (0, 0))
            out[(feature, side)] = CategoricalSummary(
                feature=feature, side=side, ref_rows=ref_rows, cur_rows=cur_rows, ref_nulls=ref_nulls,
                cur_nulls=cur_nulls, counts=tuple(counts_list),
                ref_categories=sum(int(r["cats0"]) for r in frows),
                cur_categories=sum(int(r[f"cats{s}"]) for r in frows),
                new_categories=sum(int(r[f"new{s}"]) for r in frows),
                new_rows=sum(int(r[f"newrows{s}"]) for r in frows),
                missing_categories=sum(int(r[f"miss{s}"]) for r in frows),
                missing_rows=sum(int(r[f"missrows{s}"]) for r in frows),
                new_examples=tuple(sorted(r["category"] for r in named if r["c0"] == 0 and r[f"c{s}"] > 0)
                                   [:NEW_EXAMPLES]),
                missing_examples=tuple(sorted(r["category"] for r in named if r[f"c{s}"] == 0 and r["c0"] > 0)
                                       [:NEW_EXAMPLES]),
            )
    return out
