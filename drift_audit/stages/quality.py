"""quality_gates: Great Expectations suites generated from the contract, run on the offline partition and
on each online source, plus freshness, null-ratio increase, out-of-range rate and row-count change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import functions as F

from drift_audit.adapters import gx
from drift_audit.config import Config
from drift_audit.core import gates
from drift_audit.core.contract import Contract
from drift_audit.core.tiers import thresholds
from drift_audit.spark.observe import ValueCheck
from drift_audit.spark.skew import freshness
from drift_audit.stages.samples import PARTITION, Sample


def validations(contract: Contract, offline: Sample, online: Sample) -> dict[str, Any]:
    """{side: GE validation JSON}: offline rows of the partition, then each online source."""
    pii = [f.name for f in contract.features if f.is_pii]
    keys = list(contract.entity_keys)
    off_df = offline.df.where(F.col("_window") == PARTITION)
    out = {"offline": gx.validate(
        off_df, gx.expectations_for(contract, off_df.columns, [*keys, contract.event_timestamp], True),
        f"{contract.group}_offline", pii)}
    for source in sorted(online.meta["sources"]):
        df = online.df.where(F.col("_source") == source)
        specs = gx.expectations_for(contract, df.columns, [*keys, "_value_ts", "_request_ts"], False)
        out[source] = gx.validate(df, specs, f"{contract.group}_{source}", pii)
    return out


def run(cfg: Config, contract: Contract, offline: Sample, online: Sample, diff: dict[str, Any],
        row_history: Sequence[int]) -> dict[str, Any]:
    limits = thresholds(contract.risk_tier, cfg.audit.tiers)
    checks = {tuple(k.split("|")): ValueCheck(**{**v, "not_allowed_examples": ()})
              for k, v in diff["value_checks"].items()}
    sla, sla_from = ((contract.freshness_sla_seconds, "contract") if contract.freshness_sla_seconds
                     else (limits["freshness_sla_s"], f"tier {contract.risk_tier} default"))
    validated = validations(contract, offline, online)
    results: list[gates.GateResult] = []
    for side, val in validated.items():
        results += gates.expectations(side, val)
    results += gates.freshness(freshness(online.df), sla, sla_from)
    results += gates.null_rate_increase(contract, checks, limits["null_rate_increase"])
    results += gates.out_of_range(contract, checks, limits["out_of_range"])
    results.append(gates.row_count_change(offline.meta["rows"]["partition"], row_history, limits["row_count_change"]))
    findings = gates.findings_from(contract, results)
    return {"feature_group": contract.group, "thresholds": limits, "risk_tier": contract.risk_tier,
            "gates": [r.to_dict() for r in results], "validations": validated,
            "findings": [f.to_dict() for f in findings]}
