"""`drift-audit compare`: drift of every shared (or chosen) column between two parquet sources.

Pure orchestration: list and check both sources (spark.io), pick the features and their kinds from the
parquet schemas, summarize them with spark.profile and score them with core.drift. Bad input raises an
InputDataError naming the file or column (EmptyInputError for a side with no rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from drift_audit.core import drift
from drift_audit.core.errors import EmptyInputError, InputDataError
from drift_audit.core.tiers import thresholds
from drift_audit.spark.io import ParquetSource, list_parquet, read_parquet
from drift_audit.spark.profile import categorical_summaries, numeric_summaries

SIDE = "current"
DEFAULT_TIER = 2
_NUMERIC = ("int", "uint", "float", "double", "halffloat", "decimal")
_CATEGORICAL = ("string", "large_string", "bool", "dictionary<")


def kind_of(arrow_type: str) -> str | None:
    """"numeric", "categorical", or None for types the statistics do not cover (timestamps, lists, ...)."""
    if arrow_type.startswith(_NUMERIC):
        return "numeric"
    if arrow_type.startswith(_CATEGORICAL):
        return "categorical"
    return None


def _source(path: Path, label: str) -> ParquetSource:
    src = list_parquet(path)
    if not src.files:
        raise EmptyInputError(f"{label} {path} is empty: no parquet files")
    if src.rows == 0:
        raise EmptyInputError(f"{label} {path} is empty: 0 rows")
    return src


def select_features(ref: ParquetSource, cur: ParquetSource, requested: Sequence[str] | None
                    ) -> dict[str, str]:
    """{feature: kind}: the requested columns (each must exist on both sides with compatible types), or
    every column both sides share whose type the statistics cover."""
    names = list(requested) if requested else [c for c in ref.schema if c in cur.schema and not c.startswith("_")]
    out = {}
    for name in names:
        for src, label in ((ref, "reference"), (cur, "current")):
            if name not in src.schema:
                raise InputDataError(f"column {name!r} not found in {label} {src.root}")
        kinds = (kind_of(ref.schema[name]), kind_of(cur.schema[name]))
        if kinds[0] != kinds[1]:
            raise InputDataError(
                f"column {name!r} has incompatible types: {ref.schema[name]} in reference {ref.root} "
                f"but {cur.schema[name]} in current {cur.root}")
        if kinds[0] is None:
            if requested:
                raise InputDataError(f"column {name!r} has type {ref.schema[name]}, which compare does not support")
            continue
        out[name] = kinds[0]
    if not out:
        raise InputDataError(f"no comparable columns shared by {ref.root} and {cur.root}")
    return out


def compare(spark: SparkSession, reference: Path, current: Path, features: Sequence[str] | None = None,
            bins: int = 10, top_k: int = 50, tier: int = DEFAULT_TIER, quorum: int = 2,
            fdr_alpha: float = 0.05) -> dict[str, Any]:
    """The comparison as a JSON-ready dict: both sources (path, rows, sha256) and one result per feature."""
    ref_src, cur_src = _source(reference, "reference"), _source(current, "current")
    kinds = select_features(ref_src, cur_src, features)
    numeric = [f for f, k in kinds.items() if k == "numeric"]
    categorical = [f for f, k in kinds.items() if k == "categorical"]
    ref = read_parquet(spark, ref_src).select(*[F.col(f"`{f}`") for f in kinds])
    cur = read_parquet(spark, cur_src).select(*[F.col(f"`{f}`") for f in kinds]).withColumn("_source", F.lit(SIDE))
    num = numeric_summaries(ref, cur, numeric, [SIDE], bins)
    cat = categorical_summaries(ref, cur, categorical, [SIDE], top_k)
    policy = drift.DriftPolicy(thresholds(tier), quorum, fdr_alpha)
    rows = drift.assess(num, cat, {}, policy, {}, [SIDE])
    for row in rows:
        row.pop("side", None)
        row.pop("skew", None)
    return {
        "reference": {"path": str(reference), "rows": ref_src.rows, "sha256": ref_src.sha256},
        "current": {"path": str(current), "rows": cur_src.rows, "sha256": cur_src.sha256},
        "policy": {"tier": tier, "thresholds": policy.thresholds, "quorum": quorum, "fdr_alpha": fdr_alpha,
                   "bins": bins, "top_k": top_k},
        "features": rows,
    }
