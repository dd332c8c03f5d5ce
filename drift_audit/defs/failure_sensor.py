"""The run-failure sensor: every failed audit run of this code location gets an escalation ticket."""

from __future__ import annotations

from pathlib import Path

from dagster import DefaultSensorStatus, RunFailureSensorContext, SkipReason, run_failure_sensor

from drift_audit.config import default_config_path
from drift_audit.defs.partitions import split
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages.escalation import FailedRun, root_error, write_ticket

PARTITION_TAG = "dagster/partition"
TRIGGER_TAG = "drift_audit/trigger"


def failed_run(context: RunFailureSensorContext, config_path: str) -> FailedRun | None:
    """The failed partition, step and error of the run (None for a run that is not one partition)."""
    run = context.dagster_run
    partition = run.tags.get(PARTITION_TAG)
    if not partition or "|" not in partition:
        return None
    day, group = split(partition)
    step, error_type, error = "", "", context.failure_event.message or "run failed"
    for event in context.get_step_failure_events():
        err = event.step_failure_data.error
        if err is not None:
            step, (error_type, error) = event.step_key or "", root_error(err)
            break
    return FailedRun(day, group, run.run_id, run.job_name, run.tags.get(TRIGGER_TAG, "dagster"), step,
                     error_type, error, config_path)


@run_failure_sensor(name="audit_failure_escalation", default_status=DefaultSensorStatus.RUNNING,
                    minimum_interval_seconds=30)
def audit_failure_escalation(context: RunFailureSensorContext, settings: AuditSettings):
    """Write `<output_dir>/escalations/<date>/<group>/run-<run_id>.{md,json}` for the failed partition."""
    failed = failed_run(context, str(Path(settings.config_path or default_config_path()).resolve()))
    if failed is None:
        return SkipReason(f"run {context.dagster_run.run_id} is not a single audit partition")
    path = write_ticket(settings.load(), failed)
    context.log.info(f"escalation ticket for {failed.group} {failed.day}: {path}")
    return None
