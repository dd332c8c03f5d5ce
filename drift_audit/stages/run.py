"""Materialize audit partitions in-process through Dagster (the demo, the CLI and backfills use this)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, materialize

from drift_audit.config import Config


@dataclass(frozen=True)
class PartitionRun:
    day: str
    group: str
    success: bool
    run_id: str
    report_dir: str | None
    error: str | None = None


def instance_for(cfg: Config) -> DagsterInstance:
    """The Dagster instance in $DAGSTER_HOME, or `.dagster_home/` beside the config file."""
    home = os.environ.get("DAGSTER_HOME") or str(Path(cfg.base_dir) / ".dagster_home")
    os.environ["DAGSTER_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


def register_groups(instance: DagsterInstance, groups: Iterable[str]) -> None:
    from drift_audit.defs.partitions import FEATURE_GROUPS

    existing = set(instance.get_dynamic_partitions(FEATURE_GROUPS))
    new = sorted(set(groups) - existing)
    if new:
        instance.add_dynamic_partitions(FEATURE_GROUPS, new)


def materialize_partitions(cfg: Config, config_path: str, days: Iterable[str], groups: Iterable[str],
                           instance: DagsterInstance | None = None, log_level: str = "WARNING"
                           ) -> list[PartitionRun]:
    from drift_audit.definitions import resources
    from drift_audit.defs.assets import ASSETS
    from drift_audit.defs.partitions import key
    from drift_audit.stages.report import output_dir
    from drift_audit.stages.window import PartitionWindow, parse_day

    instance = instance or instance_for(cfg)
    groups = sorted(groups)
    register_groups(instance, groups)
    res = resources(config_path)
    out = []
    for day in days:
        for group in groups:
            result = materialize(ASSETS, partition_key=key(day, group), instance=instance, resources=res,
                                 raise_on_error=False, tags={"drift_audit/trigger": "cli"},
                                 run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
            error = None
            if not result.success:
                failures = [e for e in result.all_events if e.is_step_failure]
                err = failures[0].step_failure_data.error if failures else None
                error = err.message.strip() if err else "run failed"
            report = output_dir(cfg, PartitionWindow(parse_day(day), cfg.audit.reference_days), group)
            out.append(PartitionRun(day, group, result.success, result.run_id,
                                    str(report) if result.success else None, error))
    return out
