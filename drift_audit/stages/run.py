"""Materialize audit partitions in-process through Dagster (the demo, the CLI and backfills use this).

Each partition runs under a lock (so two processes never write one partition at once), records the
fingerprint of its inputs as run tags (so a later backfill can skip it when nothing changed), and a
failed partition gets an escalation ticket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import DagsterInstance, materialize

from drift_audit.config import Config
from drift_audit.core.hashing import canonical_json
from drift_audit.stages import escalation
from drift_audit.stages.fingerprint import FINGERPRINT_TAG, PARTS_TAG

if TYPE_CHECKING:
    from drift_audit.defs.recorded import Decision

TRIGGER_TAG = "drift_audit/trigger"


@dataclass(frozen=True)
class PartitionRun:
    day: str
    group: str
    success: bool
    run_id: str
    report_dir: str | None
    error: str | None = None
    skipped: bool = False  # unchanged since `run_id`: not recomputed
    reason: str = ""


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


@contextlib.contextmanager
def partition_lock(cfg: Config, day: str, group: str) -> Iterator[None]:
    """An exclusive file lock per partition under `<output_dir>/_locks/` (waits for the holder)."""
    path = cfg.output_root / "_locks" / day / f"{group}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def plan(cfg: Config, config_path: str, days: Iterable[str], groups: Iterable[str],
         instance: DagsterInstance | None = None, force: bool = False) -> list[Decision]:
    """For each partition: run it or not, and why (see defs/recorded.decide). Reads, never writes."""
    instance = instance or instance_for(cfg)
    planner = _Planner(cfg, config_path, instance)
    return [planner.decide(day, group, force) for day in days for group in sorted(groups)]


class _Planner:
    def __init__(self, cfg: Config, config_path: str, instance: DagsterInstance) -> None:
        from drift_audit.definitions import resources
        from drift_audit.defs.assets import ASSETS
        from drift_audit.defs.recorded import code_versions

        self.cfg, self.instance = cfg, instance
        self.resources = resources(config_path)
        self.code = code_versions()
        self.assets = [k.path[-1] for a in ASSETS for k in a.keys]

    def decide(self, day: str, group: str, force: bool) -> Decision:
        from drift_audit.defs.recorded import decide, last_audit, row_history
        from drift_audit.stages.fingerprint import compute

        fp = compute(self.cfg, day, group, self.resources["mlflow"].uri(), self.code,
                     row_history(self.instance, day, group))
        return decide(fp, last_audit(self.instance, self.cfg, day, group, self.assets), day, group, force)


def materialize_partitions(cfg: Config, config_path: str, days: Iterable[str], groups: Iterable[str],
                           instance: DagsterInstance | None = None, log_level: str = "WARNING",
                           skip_unchanged: bool = False, tags: Mapping[str, str] | None = None
                           ) -> list[PartitionRun]:
    """Run every (day, group); with `skip_unchanged`, only those whose fingerprint or outputs changed."""
    from drift_audit.defs.assets import ASSETS
    from drift_audit.defs.partitions import key
    from drift_audit.stages.report import output_dir
    from drift_audit.stages.window import PartitionWindow, parse_day

    instance = instance or instance_for(cfg)
    groups = sorted(groups)
    register_groups(instance, groups)
    planner = _Planner(cfg, config_path, instance)
    run_tags = {TRIGGER_TAG: "cli", **(tags or {})}
    out = []
    for day in days:
        for group in groups:
            report = str(output_dir(cfg, PartitionWindow(parse_day(day), cfg.audit.reference_days), group))
            with partition_lock(cfg, day, group):
                decision = planner.decide(day, group, force=not skip_unchanged)
                if not decision.run:
                    out.append(PartitionRun(day, group, True, decision.previous_run_id or "", report, None, True,
                                            decision.reason))
                    continue
                fp = decision.fingerprint
                recorded = {PARTS_TAG: canonical_json(dict(fp.parts))}
                if fp.digest:
                    recorded[FINGERPRINT_TAG] = fp.digest
                result = materialize(
                    ASSETS, partition_key=key(day, group), instance=instance, resources=planner.resources,
                    raise_on_error=False, tags={**run_tags, **recorded},
                    run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
            error = None
            if not result.success:
                step, error_type, error = _failure(result)
                escalation.write_ticket(cfg, escalation.FailedRun(
                    day, group, result.run_id, result.job_def.name, run_tags[TRIGGER_TAG], step, error_type, error,
                    str(Path(config_path).resolve())))
            out.append(PartitionRun(day, group, result.success, result.run_id,
                                    report if result.success else None, error, False, decision.reason))
    return out


def _failure(result: Any) -> tuple[str, str, str]:
    """(failed step, error class, message) of a failed in-process run."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            return (event.step_key or "", *escalation.root_error(event.step_failure_data.error))
    return "", "", "run failed before any step (see the run's logs)"
