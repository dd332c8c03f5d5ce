"""Observed values against the contract, per side, in one aggregation job (plus one for examples)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from drift_audit.core.contract import Feature, token_pattern

EXAMPLES = 5


@dataclass(frozen=True)
class ValueCheck:
    feature: str
    side: str
    rows: int
    nulls: int
    below_min: int
    above_max: int
    not_allowed: int
    non_integral: int  # integer-typed features observed with fractional values
    untokenized: int  # PII values not matching the declared tokenization's pattern
    not_allowed_examples: tuple[tuple[str, int], ...] = ()


def _checks(feature: Feature, col: Column) -> list[Column]:
    name = feature.name
    num = col.cast("double")
    not_null = col.isNotNull() & ~(F.isnan(num) if feature.kind == "numeric" else F.lit(False))
    out = [F.sum(F.when(~not_null, 1).otherwise(0)).alias(f"{name}__nulls")]
    out.append(F.sum(F.when(not_null & (num < feature.min), 1).otherwise(0)).alias(f"{name}__below")
               if feature.min is not None and feature.kind == "numeric" else F.lit(0).alias(f"{name}__below"))
    out.append(F.sum(F.when(not_null & (num > feature.max), 1).otherwise(0)).alias(f"{name}__above")
               if feature.max is not None and feature.kind == "numeric" else F.lit(0).alias(f"{name}__above"))
    if feature.allowed_values:
        out.append(F.sum(F.when(not_null & ~col.cast("string").isin(list(feature.allowed_values)), 1)
                         .otherwise(0)).alias(f"{name}__not_allowed"))
    else:
        out.append(F.lit(0).alias(f"{name}__not_allowed"))
    if feature.type in ("int32", "int64"):
        out.append(F.sum(F.when(not_null & (num != F.floor(num)), 1).otherwise(0)).alias(f"{name}__fraction"))
    else:
        out.append(F.lit(0).alias(f"{name}__fraction"))
    pattern = token_pattern(feature)
    if feature.is_pii and pattern:
        out.append(F.sum(F.when(not_null & ~col.cast("string").rlike(pattern), 1).otherwise(0))
                   .alias(f"{name}__untokenized"))
    elif feature.is_pii and not feature.tokenization:
        out.append(F.sum(F.when(not_null, 1).otherwise(0)).alias(f"{name}__untokenized"))
    else:
        out.append(F.lit(0).alias(f"{name}__untokenized"))
    return out


def value_checks(df: DataFrame, side: Column, features: Sequence[Feature]) -> dict[tuple[str, str], ValueCheck]:
    """{(feature, side): ValueCheck} for the features present in `df`."""
    present = [f for f in features if f.name in df.columns]
    if not present:
        return {}
    aggs = [F.count(F.lit(1)).alias("__rows")]
    for feat in present:
        aggs += _checks(feat, F.col(feat.name))
    rows = df.groupBy(side.alias("__side")).agg(*aggs).collect()  # bounded: one row per side
    examples = _not_allowed_examples(df, side, [f for f in present if f.allowed_values and not f.is_pii])
    out = {}
    for r in rows:
        for feat in present:
            n = feat.name
            out[(n, r["__side"])] = ValueCheck(
                feature=n, side=r["__side"], rows=int(r["__rows"]), nulls=int(r[f"{n}__nulls"]),
                below_min=int(r[f"{n}__below"]), above_max=int(r[f"{n}__above"]),
                not_allowed=int(r[f"{n}__not_allowed"]), non_integral=int(r[f"{n}__fraction"]),
                untokenized=int(r[f"{n}__untokenized"]),
                not_allowed_examples=tuple(examples.get((n, r["__side"]), ())),
            )
    return out


def _not_allowed_examples(df: DataFrame, side: Column, features: Sequence[Feature]) -> dict:
    if not features:
        return {}
    items = [F.struct(F.lit(f.name).alias("feature"), F.col(f.name).cast("string").alias("value"),
                      (~F.col(f.name).cast("string").isin(list(f.allowed_values))).alias("bad"))
             for f in features]
    long = df.select(side.alias("side"), F.explode(F.array(*items)).alias("p")).select("side", "p.*")
    bad = long.where(F.col("value").isNotNull() & F.col("bad")).groupBy("feature", "side", "value").count()
    top = bad.withColumn("r", F.row_number().over(
        Window.partitionBy("feature", "side").orderBy(F.col("count").desc(), "value"))).where(F.col("r") <= EXAMPLES)
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r in sorted(top.collect(), key=lambda r: r["r"]):  # bounded: <= 5 per (feature, side)
        out.setdefault((r["feature"], r["side"]), []).append((r["value"], int(r["count"])))
    return out
