"""The partitioned audit job and the nightly schedule."""


from datetime import timedelta

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from drift_audit.defs.partitions import FEATURE_GROUPS, key

audit_job = define_asset_job("audit_job", selection=AssetSelection.groups("audit"))


@schedule(job=audit_job, cron_schedule="0 3 * * *", execution_timezone="UTC", name="nightly_audit")
def nightly_audit(context: ScheduleEvaluationContext):
    """Every feature group, for the previous (complete) day."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    groups = sorted(context.instance.get_dynamic_partitions(FEATURE_GROUPS))
    if not groups:
        return SkipReason("no feature groups registered yet: run the contract sensor or `drift-audit demo`")
    return [RunRequest(run_key=f"nightly-{day}-{g}", partition_key=key(day, g), tags={"drift_audit/trigger": "nightly"})
            for g in groups]
