"""deploy/: the files lint clean (yamllint, hadolint) and agree with the code and with each other.

The Dagster Helm chart is not published on a package registry this project can use, so its
values.schema.json cannot be checked here: the values are linted and their keys checked below.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from dagster import Definitions

from drift_audit.config import load_config
from drift_audit_tests.conftest import REPO

DEPLOY = REPO / "deploy"
YAML_FILES = [DEPLOY / "dagster.yaml", DEPLOY / "helm" / "values.yaml", DEPLOY / "spark-on-kubernetes.yaml",
              REPO / "dagster.yaml", REPO / "workspace.yaml"]
YAMLLINT = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name) if (Path(sys.executable).parent / name).exists() else (
        shutil.which(name) or name)


def test_yaml_files_lint_clean():
    proc = subprocess.run([_tool("yamllint"), "-f", "parsable", "-d", YAMLLINT, *map(str, YAML_FILES)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_lints_clean_and_serves_the_code_location():
    proc = subprocess.run([_tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    assert '"-m", "drift_audit.definitions", "-a", "defs"' in text and "openjdk-17-jre-headless" in text


def _values() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def test_helm_values_deploy_this_code_location_with_postgres_and_k8s_run_launcher():
    values = _values()
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module, attribute = args[args.index("-m") + 1], args[args.index("-a") + 1]
    assert isinstance(getattr(importlib.import_module(module), attribute), Definitions)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["loadInclusterConfig"] is True
    pg = values["postgresql"]
    assert pg["enabled"] is False and pg["postgresqlScheme"] == "postgresql+psycopg2"
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]


def test_run_queue_limits_agree_between_helm_and_instance_yaml():
    helm = _values()["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["run_queue"]["tag_concurrency_limits"]
    assert helm == instance == [{"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def test_postgres_instance_yaml_takes_every_credential_from_the_environment():
    db = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["storage"]["postgres"]["postgres_db"]
    assert {k: v for k, v in db.items() if k != "scheme"} == {
        k: {"env": f"DAGSTER_PG_{e}"} for k, e in [("username", "USERNAME"), ("password", "PASSWORD"),
                                                    ("hostname", "HOST"), ("db_name", "DB"), ("port", "PORT")]}


def test_spark_on_kubernetes_example_is_a_valid_config_matching_the_helm_values(tmp_path):
    cfg_path = tmp_path / "drift_audit.yaml"
    shutil.copy(DEPLOY / "spark-on-kubernetes.yaml", cfg_path)
    cfg = load_config(cfg_path)
    assert cfg.spark.master.startswith("k8s://https://")
    conf = cfg.spark.conf
    [deployment] = _values()["dagster-user-deployments"]["deployments"]
    assert conf["spark.kubernetes.container.image"] == f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    [volume] = deployment["volumes"]
    claim = "spark.kubernetes.executor.volumes.persistentVolumeClaim.audit-data.options.claimName"
    mount = "spark.kubernetes.executor.volumes.persistentVolumeClaim.audit-data.mount.path"
    assert conf[claim] == volume["persistentVolumeClaim"]["claimName"]
    assert conf[mount] == deployment["volumeMounts"][0]["mountPath"]
    run_pods = _values()["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["podSpecConfig"]
    assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == run_pods["serviceAccountName"]
