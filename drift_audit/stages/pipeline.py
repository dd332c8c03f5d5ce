"""All stages of one partition in order, without Dagster (for tests, benchmarks and debugging)."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from drift_audit.config import Config
from drift_audit.stages import contracts, diff, drift, impact, plan, quality, report, samples, transform
from drift_audit.stages.window import PartitionWindow, parse_day


def run_partition(cfg: Config, spark: SparkSession, day: str, group: str) -> dict[str, Any]:
    window = PartitionWindow(parse_day(day), cfg.audit.reference_days)
    snap = contracts.snapshot(cfg, group)
    contract = contracts.contract_of(snap)
    off = samples.offline(cfg, spark, contract, window)
    off.df = off.df.cache()
    on = samples.online(cfg, spark, contract, window, off, cfg.output_root / "_staging" / day / group)
    on.df = on.df.cache()
    d = diff.run(contract, off, on)
    dr = drift.run(cfg, contract, off, on)
    q = quality.run(cfg, contract, off, on, d, [])
    t = transform.run(cfg, contract, window, off, on, dr)
    m = impact.run(cfg, group, window)
    p = plan.run(cfg, contract, window, [off.meta, on.meta, d, dr, q, t], m)
    r = report.run(cfg, window, {"contract_snapshot": snap, "plan": p, "drift": dr, "diff": d, "quality": q,
                                 "transformation": t, "provenance": []})
    return {"snapshot": snap, "offline": off.meta, "online": on.meta, "diff": d, "drift": dr, "quality": q,
            "transformation": t, "impact": m, "plan": p, "report": r}
