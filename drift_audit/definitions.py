"""`defs`: the drift_audit code location. The only place resources are wired to the environment."""

from __future__ import annotations

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


def resources(config_path: str | None = None) -> dict[str, Any]:
    """Resources over one config file (default: $DRIFT_AUDIT_CONFIG, else ./drift_audit.yaml)."""
    path = config_path if config_path is not None else (EnvVar("DRIFT_AUDIT_CONFIG").get_value("") or "")
    settings = AuditSettings(config_path=path)
    spark = SparkResource(settings=settings, master=EnvVar("DRIFT_AUDIT_SPARK_MASTER").get_value("") or "")
    return {
        "settings": settings,
        "spark": spark,
        "feast": FeastResource(settings=settings),
        "mlflow": MLflowResource(settings=settings, tracking_uri=EnvVar("MLFLOW_TRACKING_URI").get_value("") or ""),
        "contracts": ContractsResource(settings=settings),
        "audit_io": AuditIOManager(settings=settings, spark=spark),
    }


def build_defs(config_path: str | None = None) -> Definitions:
    return Definitions(assets=ASSETS, jobs=[audit_job], schedules=[nightly_audit],
                       sensors=[contract_change_sensor, audit_failure_escalation], resources=resources(config_path))


defs = build_defs()
