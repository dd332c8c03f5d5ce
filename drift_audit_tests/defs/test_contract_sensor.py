"""The schema-registry sensor against a real temporary Git repository that the tests commit to."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, instance_for_test

from drift_audit.defs.partitions import FEATURE_GROUPS, split
from drift_audit.defs.resources import AuditSettings, ContractsResource
from drift_audit.defs.sensors import TAG_COMMIT, TAG_FILES, contract_change_sensor, latest_complete_day
from drift_audit_tests.contract_repo import CONTRACTS, PROFILE, ContractRepo

ENGAGEMENT = "features/engagement/v1/engagement.proto"


def write_config(tmp: Path, contracts: str) -> Path:
    path = tmp / "drift_audit.yaml"
    path.write_text(f"""
output_dir: out
contracts: {contracts}
feast: {{repo_path: ., project: p, registry: registry.db}}
mlflow: {{tracking_uri: "sqlite:///mlflow.db"}}
groups: {{customer_profile: {{offline: {{path: data}}, online: [{{name: online_store, kind: feast}}]}}}}
""")
    return path


class Daemon:
    """Evaluates the sensor as the daemon would: carries the cursor, applies partition requests."""

    def __init__(self, instance: DagsterInstance, config: Path) -> None:
        self.instance = instance
        self.contracts = ContractsResource(settings=AuditSettings(config_path=str(config)))
        self.cursor: str | None = None
        self.run_keys: list[str] = []

    def tick(self) -> SensorResult | SkipReason:
        with build_sensor_context(instance=self.instance, cursor=self.cursor,
                                  resources={"contracts": self.contracts}) as context:
            result = contract_change_sensor(context)
        if isinstance(result, SensorResult):
            self.cursor = result.cursor
            for req in result.dynamic_partitions_requests or []:
                self.instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
            self.run_keys += [r.run_key for r in result.run_requests or []]
        return result

    @property
    def groups(self) -> list[str]:
        return sorted(self.instance.get_dynamic_partitions(FEATURE_GROUPS))


@pytest.fixture()
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as inst:
        yield inst


@pytest.fixture()
def repo(tmp_path: Path) -> ContractRepo:
    return ContractRepo(tmp_path)


@pytest.fixture()
def daemon(instance: DagsterInstance, repo: ContractRepo, tmp_path: Path) -> Daemon:
    return Daemon(instance, write_config(tmp_path, "{root: registry/contracts}"))


def requested(result) -> dict[str, dict]:
    """{group: {date, tags}} of the run requests."""
    assert isinstance(result, SensorResult), result
    out = {}
    for r in result.run_requests or []:
        day, group = split(r.partition_key)
        out[group] = {"date": day, "tags": r.tags, "run_key": r.run_key}
    return out


def test_first_commit_registers_groups_and_requests_audits(daemon, repo):
    before = latest_complete_day(datetime.now(UTC)).isoformat()
    result = daemon.tick()
    after = latest_complete_day(datetime.now(UTC)).isoformat()
    head = repo.git("rev-parse", "HEAD").strip()
    runs = requested(result)
    assert list(runs) == ["customer_profile"] and runs["customer_profile"]["date"] in {before, after}
    tags = runs["customer_profile"]["tags"]
    assert tags[TAG_COMMIT] == head
    assert f"contracts/{PROFILE}" in tags[TAG_FILES].split(",")
    assert daemon.groups == ["customer_profile"]
    assert json.loads(daemon.cursor) == {"commit": head, "good": head, "error": None}


def test_one_change_fires_once(daemon, repo):
    daemon.tick()
    again = daemon.tick()
    assert isinstance(again, SkipReason) and "no new commit" in (again.skip_message or "")
    repo.edit('version: "2.1.0"', 'version: "2.1.1"')
    head = repo.commit("patch bump")
    runs = requested(daemon.tick())
    assert list(runs) == ["customer_profile"] and runs["customer_profile"]["tags"][TAG_COMMIT] == head
    assert runs["customer_profile"]["tags"][TAG_FILES] == f"contracts/{PROFILE}"
    assert isinstance(daemon.tick(), SkipReason)
    assert len(daemon.run_keys) == len(set(daemon.run_keys)) == 2  # run keys also dedupe at the daemon


def test_new_group_becomes_a_partition_and_only_changed_groups_run(daemon, repo):
    daemon.tick()
    shutil.copytree(CONTRACTS / "features/engagement", repo.root / "features/engagement")
    repo.commit("add engagement")
    result = daemon.tick()
    assert list(requested(result)) == ["engagement"]
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["engagement"]]
    assert daemon.groups == ["customer_profile", "engagement"]
    repo.edit('version: "1.0.3"', 'version: "1.0.4"', ENGAGEMENT)
    repo.commit("engagement patch")
    result = daemon.tick()
    assert list(requested(result)) == ["engagement"] and not result.dynamic_partitions_requests


def test_commit_outside_the_contracts_moves_the_cursor_without_runs(daemon, repo):
    daemon.tick()
    (repo.path / "README.md").write_text("docs\n")
    head = repo.commit("docs only")
    result = daemon.tick()
    assert isinstance(result, SensorResult) and not result.run_requests
    assert json.loads(daemon.cursor)["commit"] == head


def test_shared_options_change_audits_every_group(daemon, repo):
    shutil.copytree(CONTRACTS / "features/engagement", repo.root / "features/engagement")
    repo.commit("two groups")
    daemon.tick()
    options = "drift_audit/v1/options.proto"
    repo.write(repo.read(options).replace("// Set once on", "// Set exactly once on"), options)
    repo.commit("options comment")
    assert sorted(requested(daemon.tick())) == ["customer_profile", "engagement"]


def test_bad_commit_is_recorded_once_and_the_next_good_commit_fires(daemon, repo, instance):
    shutil.copytree(CONTRACTS / "features/engagement", repo.root / "features/engagement")
    repo.commit("two groups")
    daemon.tick()
    good = repo.git("rev-parse", "HEAD").strip()
    repo.edit("int32 age = 4 [", "int32 age = 4 oops [")
    repo.edit('version: "2.1.0"', 'version: "2.2.0"')
    repo.edit('version: "1.0.3"', 'version: "1.1.0"', ENGAGEMENT)  # changed in the broken commit too
    bad = repo.commit("broken")
    line = repo.line_of("int32 age = 4 oops")

    result = daemon.tick()
    assert isinstance(result, SensorResult) and not result.run_requests
    message = result.skip_reason.skip_message if result.skip_reason else ""
    assert f"contracts/{PROFILE}:{line}: Expected \";\"" in message and bad[:12] in message
    [record] = result.asset_events
    assert record.metadata["status"].value == "compile_failed" and record.metadata["commit"].value == bad
    assert f"contracts/{PROFILE}:{line}" in record.metadata["error"].value
    assert json.loads(daemon.cursor) == {"commit": bad, "good": good, "error": json.loads(daemon.cursor)["error"]}

    still = daemon.tick()  # no crash loop: the failure is not re-evaluated or re-recorded
    assert isinstance(still, SkipReason) and "do not compile" in (still.skip_message or "")

    repo.edit("int32 age = 4 oops [", "int32 age = 4 [")
    fixed = repo.commit("fix")
    runs = requested(daemon.tick())
    assert sorted(runs) == ["customer_profile", "engagement"]  # everything changed since the last good commit
    assert runs["engagement"]["tags"][TAG_COMMIT] == fixed
    assert json.loads(daemon.cursor) == {"commit": fixed, "good": fixed, "error": None}


def test_remote_registry_is_mirrored_and_polled(instance, repo, tmp_path):
    config = write_config(tmp_path, f"{{root: contracts, git_repo: '{repo.path}'}}")
    daemon = Daemon(instance, config)
    assert list(requested(daemon.tick())) == ["customer_profile"]
    assert (tmp_path / "out/_registry").is_dir()
    assert isinstance(daemon.tick(), SkipReason)
    repo.edit('version: "2.1.0"', 'version: "2.2.0"')
    head = repo.commit("minor")
    runs = requested(daemon.tick())
    assert runs["customer_profile"]["tags"][TAG_COMMIT] == head


def test_unusable_registry_is_a_skip_not_a_crash(instance, tmp_path):
    (tmp_path / "plain/contracts").mkdir(parents=True)
    daemon = Daemon(instance, write_config(tmp_path, "{root: plain/contracts}"))
    result = daemon.tick()
    assert isinstance(result, SkipReason) and "not a folder inside a Git repository" in (result.skip_message or "")


def test_dagster_accepts_the_results_through_the_definitions(instance, repo, tmp_path):
    """Through `build_defs` wiring: run requests resolve against the job's partitions (the new group is
    added in the same tick) and the failure record is an asset event Dagster stores."""
    from drift_audit.definitions import build_defs, resources

    config = str(write_config(tmp_path, "{root: registry/contracts}"))
    defs = build_defs(config)
    sensor = defs.get_sensor_def("contract_change_sensor")

    def tick(cursor: str | None):
        with build_sensor_context(instance=instance, instance_ref=instance.get_ref(), cursor=cursor,
                                  definitions=defs, resources={"contracts": resources(config)["contracts"]}
                                  ) as context:
            return sensor.evaluate_tick(context)

    first = tick(None)
    assert [r.tags["dagster/partition/feature_group"] for r in first.run_requests] == ["customer_profile"]
    assert first.run_requests[0].tags["dagster/partition_set"] == "audit_job_partition_set"
    repo.edit("int32 age = 4 [", "int32 age = 4 oops [")
    repo.commit("broken")
    bad = tick(first.cursor)
    assert bad.run_requests == [] and "do not compile" in (bad.skip_message or "")
    assert [e.asset_key.path for e in bad.asset_events] == [["contract_snapshot"]]
