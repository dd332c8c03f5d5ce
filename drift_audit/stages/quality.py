"""quality_gates: Great Expectations suites from the contract, plus freshness, nulls, range and row count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import functions as F

from drift_audit.adapters import gx
from drift_audit.config import Config
from drift_audit.core import gates
from drift_audit.core.contract import Contract
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.tiers import thresholds
from drift_audit.spark.observe import ValueCheck
from drift_audit.spark.skew import freshness
from drift_audit.stages.samples import PARTITION, Sample

GE_KINDS = {
    "expect_column_values_to_not_be_null": "nullability_violation",
    "expect_column_values_to_be_between": "out_of_range",
    "expect_column_values_to_be_in_set": "allowed_value_drift",
    "expect_column_values_to_be_of_type": "type_mismatch",
    "expect_compound_columns_to_be_unique": "duplicate_rows",
}


def run(cfg: Config, contract: Contract, offline: Sample, online: Sample, diff: dict[str, Any],
        row_history: Sequence[int]) -> dict[str, Any]:
    limits = thresholds(contract.risk_tier, cfg.audit.tiers)
    pii = [f.name for f in contract.features if f.is_pii]
    keys = list(contract.entity_keys)
    off_df = offline.df.where(F.col("_window") == PARTITION)
    validations = {"offline": gx.validate(
        off_df, gx.expectations_for(contract, off_df.columns, [*keys, contract.event_timestamp], True),
        f"{contract.group}_offline", pii)}
    for source in sorted(online.meta["sources"]):
        df = online.df.where(F.col("_source") == source)
        specs = gx.expectations_for(contract, df.columns, [*keys, "_value_ts", "_request_ts"], False)
        validations[source] = gx.validate(df, specs, f"{contract.group}_{source}", pii)
    checks = {tuple(k.split("|")): ValueCheck(**{**v, "not_allowed_examples": ()})
              for k, v in diff["value_checks"].items()}
    results: list[gates.GateResult] = []
    results += gates.freshness(contract, freshness(online.df))
    results += _null_increase(contract, checks, limits["null_rate_increase"])
    results += gates.out_of_range(contract, checks, limits["out_of_range"])
    results.append(gates.row_count_change(offline.meta["rows"]["partition"], row_history, limits["row_count_change"]))
    for side, val in validations.items():
        failed = [r for r in val["results"] if not r["success"]]
        results.append(gates.GateResult("expectations", "*", side, not failed, len(failed), 0,
                                        {"evaluated": len(val["results"]), "failed": len(failed)}))
    findings = [f for f in gates.findings_from(contract, results) if f.kind != "expectation_failed"]
    findings += _ge_findings(contract, validations)
    return {"feature_group": contract.group, "thresholds": limits,
            "gates": [r.to_dict() for r in results], "validations": validations,
            "findings": [f.to_dict() for f in findings]}


def _null_increase(contract: Contract, checks: dict, limit: float) -> list[gates.GateResult]:
    out = []
    for feat in contract.features:
        off = checks.get((feat.name, "offline"))
        if off is None or not off.rows:
            continue
        for (name, side), chk in sorted(checks.items()):
            if name != feat.name or side == "offline" or not chk.rows:
                continue
            ref, cur = off.nulls / off.rows, chk.nulls / chk.rows
            out.append(gates.GateResult("null_rate_increase", feat.name, side, cur - ref <= limit,
                                        round(cur - ref, 6), limit,
                                        {"null_rate_offline": round(ref, 6), "null_rate_online": round(cur, 6)}))
    return out


def _ge_findings(contract: Contract, validations: dict[str, Any]) -> list[Finding]:
    out = []
    for side, val in validations.items():
        for r in val["results"]:
            if r["success"] or r["expectation"] not in GE_KINDS:
                continue
            kwargs = r["kwargs"]
            feature = kwargs.get("column") or "*"
            evidence = {"expectation": r["expectation"], "side": side, "unexpected_count": r["unexpected_count"],
                        "element_count": r["element_count"], "unexpected_percent": r["unexpected_percent"],
                        "kwargs": kwargs}
            if "unexpected_examples" in r:
                evidence["unexpected_examples"] = r["unexpected_examples"]
            grave = r["expectation"] != "expect_compound_columns_to_be_unique"
            out.append(Finding(contract.group, feature, GE_KINDS[r["expectation"]],
                               severity_for(contract.risk_tier, grave), evidence, "quality_gates", (side,)))
    return out
