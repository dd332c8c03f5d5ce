"""The schema-registry sensor: audits start when the contracts' Git commit changes."""

from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetKey,
    AssetObservation,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from drift_audit.core.errors import DriftAuditError
from drift_audit.defs.jobs import audit_job
from drift_audit.defs.partitions import FEATURE_GROUPS, feature_groups, key
from drift_audit.defs.resources import ContractsResource
from drift_audit.stages.registry import Cursor, poll

TAG_TRIGGER, TAG_COMMIT, TAG_FILES = "drift_audit/trigger", "drift_audit/commit", "drift_audit/changed_files"


def latest_complete_day(now: datetime) -> date:
    return (now.astimezone(UTC) - timedelta(days=1)).date()


@sensor(job=audit_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED,
        name="contract_change_sensor")
def contract_change_sensor(context: SensorEvaluationContext, contracts: ContractsResource):
    """On a new commit of the contracts: register new groups, audit the affected ones for the last full day.

    A commit that does not compile is recorded once (an observation of contract_snapshot carrying the
    error, and the cursor) and skipped; the next commit that compiles fires for everything changed since
    the last good one.
    """
    cursor = Cursor.parse(context.cursor)
    try:
        repo, rel = contracts.registry()
        outcome = poll(repo, rel, cursor, set(context.instance.get_dynamic_partitions(FEATURE_GROUPS)))
    except DriftAuditError as exc:
        return SkipReason(f"schema registry unavailable: {exc}")
    if not outcome.changed:
        return SkipReason(outcome.message)
    commit = outcome.cursor.commit or ""
    files = ",".join(outcome.changed_files)[:4000]
    if outcome.error:
        context.log.error(f"contracts at {commit} do not compile: {outcome.error}")
        record = AssetObservation(asset_key=AssetKey("contract_snapshot"), metadata={
            "status": "compile_failed", "commit": commit, "error": MetadataValue.text(outcome.error),
            "changed_files": MetadataValue.json(list(outcome.changed_files))})
        return SensorResult(skip_reason=SkipReason(outcome.message), cursor=outcome.cursor.dumps(),
                            asset_events=[record])
    day = latest_complete_day(datetime.now(UTC)).isoformat()
    tags = {TAG_TRIGGER: "contract_change", TAG_COMMIT: commit, TAG_FILES: files}
    requests = [RunRequest(run_key=f"contract-{commit}-{g}", partition_key=key(day, g), tags=tags)
                for g in outcome.affected_groups]
    adds = [feature_groups.build_add_request(list(outcome.new_groups))] if outcome.new_groups else []
    return SensorResult(run_requests=requests, cursor=outcome.cursor.dumps(), dynamic_partitions_requests=adds,
                        skip_reason=None if requests else SkipReason(outcome.message))
