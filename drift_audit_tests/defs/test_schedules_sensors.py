"""The nightly schedule and the run-failure escalation sensor, evaluated against a real Dagster instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    partition_loading_context,
)

from drift_audit.config import load_config
from drift_audit.defs.failure_sensor import audit_failure_escalation
from drift_audit.defs.jobs import nightly_audit
from drift_audit.defs.partitions import FEATURE_GROUPS, audit_partitions
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages.escalation import ticket_dir
from drift_audit.stages.run import materialize_partitions
from drift_audit_tests.conftest import write_demo_config

GROUPS = ["customer_profile", "engagement", "transactions"]


@pytest.fixture()
def instance(dagster_home: Path) -> DagsterInstance:
    return DagsterInstance.from_config(str(dagster_home))


def _tick(instance: DagsterInstance, when: datetime):
    return nightly_audit(build_schedule_context(instance=instance, scheduled_execution_time=when))


def test_nightly_skips_until_groups_are_registered(instance):
    out = _tick(instance, datetime(2026, 10, 22, 3, 0, tzinfo=UTC))
    assert isinstance(out, SkipReason) and "no feature groups" in (out.skip_message or "")


@pytest.mark.parametrize(("tick", "day"), [
    (datetime(2026, 10, 22, 3, 0, tzinfo=UTC), "2026-10-21"),
    (datetime(2026, 11, 1, 3, 0, tzinfo=UTC), "2026-10-31"),  # across a month boundary
    (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), "2026-12-31"),  # and a year boundary
])
def test_nightly_requests_every_group_for_the_previous_day(instance, tick, day):
    instance.add_dynamic_partitions(FEATURE_GROUPS, GROUPS)
    requests = _tick(instance, tick)
    assert all(isinstance(r, RunRequest) for r in requests)
    assert sorted(r.partition_key.keys_by_dimension["feature_group"] for r in requests) == GROUPS
    assert {r.partition_key.keys_by_dimension["date"] for r in requests} == {day}
    assert len({r.run_key for r in requests}) == len(GROUPS)  # one run per partition and night, never twice
    for r in requests:
        with partition_loading_context(effective_dt=tick, dynamic_partitions_store=instance):
            assert audit_partitions.has_partition_key(r.partition_key)
        assert r.tags["drift_audit/trigger"] == "nightly"


def test_nightly_schedule_is_wired():
    from drift_audit.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_audit")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.job_name == "audit_job"
    assert defs.resolve_sensor_def("audit_failure_escalation") is not None


def test_failed_partition_gets_the_same_ticket_from_cli_and_sensor(tmp_path, instance, spark):
    """A partition whose offline data is missing fails in offline_sample; both paths write one ticket."""
    cfg_path = write_demo_config(tmp_path)  # the demo is not built here: no data at all
    cfg = load_config(cfg_path)
    [run] = materialize_partitions(cfg, str(cfg_path), ["2026-10-21"], ["transactions"], instance=instance)
    assert not run.success and "source not found" in (run.error or "")
    folder = ticket_dir(cfg, "2026-10-21", "transactions")
    ticket = json.loads((folder / f"run-{run.run_id}.json").read_text())
    assert (ticket["day"], ticket["group"], ticket["run_id"], ticket["step"]) == (
        "2026-10-21", "transactions", run.run_id, "offline_sample")
    assert ticket["error_type"] == "InputDataError" and "source not found" in ticket["error"]
    assert ticket["reproduce"][0] == (f"drift-audit --config {cfg_path.resolve()} audit --date 2026-10-21 "
                                      "--groups transactions")
    md = (folder / f"run-{run.run_id}.md").read_text()
    assert "2026-10-21|transactions" in md and "source not found" in md and run.run_id in md
    cli_files = {p.name: p.read_bytes() for p in folder.iterdir()}
    for p in folder.iterdir():
        p.unlink()

    dagster_run = instance.get_run_by_id(run.run_id)
    [failure] = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="audit_failure_escalation", dagster_instance=instance, dagster_run=dagster_run,
        dagster_event=failure.get_dagster_event(), resources={"settings": AuditSettings(config_path=str(cfg_path))})
    audit_failure_escalation(context)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == cli_files
