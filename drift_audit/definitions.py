"""`defs`: the drift_audit code location. The only place resources are wired to the environment."""

from __future__ import annotations

import os
from typing import Any

from dagster import Definitions, EnvVar

from drift_audit.defs.assets import ASSETS
from drift_audit.defs.failure_sensor import audit_failure_escalation
from drift_audit.defs.io_manager import AuditIOManager
from drift_audit.defs.jobs import audit_job, nightly_audit
from drift_audit.defs.resources import (
    AuditSettings,
    ContractsResource,
    FeastResource,
    MLflowResource,
    SparkResource,
)
from drift_audit.defs.sensors import contract_change_sensor


def _env(name: str) -> Any:
    """The variable as a Dagster `EnvVar` when set: resolved at run time, shown by name and never by value in
    run configs and the UI (a tracking URI may carry credentials). Unset: "" (the YAML's value applies)."""
    return EnvVar(name) if os.environ.get(name) else ""


def resources(config_path: str | None = None) -> dict[str, Any]:
    """Resources over one config file (default: $DRIFT_AUDIT_CONFIG, else ./drift_audit.yaml)."""
    settings = AuditSettings(config_path=config_path if config_path is not None else _env("DRIFT_AUDIT_CONFIG"))
    spark = SparkResource(settings=settings, master=_env("DRIFT_AUDIT_SPARK_MASTER"))
    return {
        "settings": settings,
        "spark": spark,
        "feast": FeastResource(settings=settings),
        "mlflow": MLflowResource(settings=settings),
        "contracts": ContractsResource(settings=settings),
        "audit_io": AuditIOManager(settings=settings, spark=spark),
    }


def build_defs(config_path: str | None = None) -> Definitions:
    return Definitions(assets=ASSETS, jobs=[audit_job], schedules=[nightly_audit],
                       sensors=[contract_change_sensor, audit_failure_escalation], resources=resources(config_path))


defs = build_defs()
