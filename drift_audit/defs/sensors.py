"""The schema-registry sensor: audits start when the contracts' Git commit changes."""


import json
from datetime import UTC, datetime, timedelta

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from drift_audit.defs.jobs import audit_job
from drift_audit.defs.partitions import FEATURE_GROUPS, feature_groups, key
from drift_audit.defs.resources import ContractsResource
from drift_audit.stages.registry import poll


@sensor(job=audit_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED,
        name="contract_change_sensor")
def contract_change_sensor(context: SensorEvaluationContext, contracts: ContractsResource):
    """On a new commit of the contracts: register new groups, audit the changed ones for the last full day."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(FEATURE_GROUPS))
    outcome = poll(contracts.root(), cursor.get("commit"), known)
    if outcome.commit is None or outcome.commit == cursor.get("commit"):
        return SkipReason(outcome.message)
    new_cursor = json.dumps({"commit": outcome.commit, "error": outcome.error})
    if outcome.error:
        context.update_cursor(new_cursor)
        return SkipReason(f"contracts at {outcome.commit[:12]} do not compile: {outcome.error}")
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    tags = {"drift_audit/trigger": "contract_change", "drift_audit/commit": outcome.commit,
            "drift_audit/changed_files": ",".join(outcome.changed_files)[:4000]}
    requests = [RunRequest(run_key=f"contract-{outcome.commit}-{g}", partition_key=key(day, g), tags=tags)
                for g in outcome.affected_groups]
    add = feature_groups.build_add_request(sorted(outcome.new_groups)) if outcome.new_groups else None
    return SensorResult(run_requests=requests, cursor=new_cursor, dynamic_partitions_requests=[add] if add else [])
