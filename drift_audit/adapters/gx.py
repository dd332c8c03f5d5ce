"""Great Expectations 1.x behind one function: suites generated from a contract, run on Spark DataFrames.

Only this module imports great_expectations (its API changes between majors). Results come back as
plain JSON with the unexpected-value examples of PII features removed.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame

from drift_audit.core.contract import Contract

_SPARK_TYPES = {"float64": "DoubleType", "float32": "FloatType", "int32": "IntegerType", "int64": "LongType",
                "bool": "BooleanType", "string": "StringType", "bytes": "BinaryType", "timestamp": "TimestampType"}


def expectations_for(contract: Contract, columns: Sequence[str], unique_columns: Sequence[str],
                     check_types: bool) -> list[dict[str, Any]]:
    """The suite for one side as plain specs: {type, kwargs}. Generated from the contract, never by hand."""
    specs: list[dict[str, Any]] = []
    for feat in contract.features:
        if feat.name not in columns:
            continue
        col = feat.name
        if not feat.nullable:
            specs.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": col}})
        elif feat.max_null_ratio is not None:
            specs.append({"type": "expect_column_values_to_not_be_null",
                          "kwargs": {"column": col, "mostly": round(1 - feat.max_null_ratio, 6)}})
        if feat.kind == "numeric" and (feat.min is not None or feat.max is not None):
            specs.append({"type": "expect_column_values_to_be_between",
                          "kwargs": {"column": col, "min_value": feat.min, "max_value": feat.max}})
        if feat.allowed_values:
            specs.append({"type": "expect_column_values_to_be_in_set",
                          "kwargs": {"column": col, "value_set": list(feat.allowed_values)}})
        if check_types and feat.type in _SPARK_TYPES:
            specs.append({"type": "expect_column_values_to_be_of_type",
                          "kwargs": {"column": col, "type_": _SPARK_TYPES[feat.type]}})
    if unique_columns and all(c in columns for c in unique_columns):
        specs.append({"type": "expect_compound_columns_to_be_unique",
                      "kwargs": {"column_list": list(unique_columns)}})
    return specs


def _expectation(gx: Any, spec: dict[str, Any]) -> Any:
    cls_name = "".join(part.capitalize() for part in spec["type"].split("_"))
    return getattr(gx.expectations, cls_name)(**spec["kwargs"])


def validate(df: DataFrame, specs: list[dict[str, Any]], suite_name: str, pii_columns: Sequence[str]
             ) -> dict[str, Any]:
    """Run the suite on `df`; returns {"suite", "success", "results": [...], "statistics"}: GE's validation
    JSON reduced to what is deterministic (no run ids or times), PII examples removed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = ctx.data_sources.add_spark("spark").add_dataframe_asset(suite_name)
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df})
        suite = ctx.suites.add(gx.ExpectationSuite(name=suite_name))
        for spec in specs:
            suite.add_expectation(_expectation(gx, spec))
        result = batch.validate(suite, result_format="SUMMARY").to_json_dict()
    out = []
    for item in result["results"]:
        cfg = item["expectation_config"]
        kwargs = {k: v for k, v in cfg["kwargs"].items() if k not in ("batch_id",)}
        res = item.get("result", {})
        column = kwargs.get("column")
        entry = {
            "expectation": cfg["type"], "kwargs": kwargs, "success": bool(item["success"]),
            "element_count": res.get("element_count"), "unexpected_count": res.get("unexpected_count"),
            "unexpected_percent": _round(res.get("unexpected_percent")),
            "exception": (item.get("exception_info") or {}).get("exception_message") or None,
        }
        if column not in pii_columns and "partial_unexpected_counts" in res:
            entry["unexpected_examples"] = [
                {"value": str(x["value"]), "count": x["count"]} for x in res["partial_unexpected_counts"][:5]]
        out.append(entry)
    out.sort(key=lambda e: (e["expectation"], str(e["kwargs"].get("column") or e["kwargs"].get("column_list"))))
    passed = sum(1 for e in out if e["success"])
    return {"suite": suite_name, "success": passed == len(out), "results": out,
            "statistics": {"evaluated_expectations": len(out), "successful_expectations": passed,
                           "unsuccessful_expectations": len(out) - passed}}


def _round(value: Any) -> Any:
    return round(float(value), 6) if isinstance(value, int | float) else value
