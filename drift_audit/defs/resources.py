"""Resources: the config file, Spark, Feast, MLflow and contracts, each a thin shell over our adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pyspark.sql import SparkSession

from drift_audit.adapters import feast_store
from drift_audit.config import Config, load_config
from drift_audit.spark.session import get_spark


class AuditSettings(ConfigurableResource):
    """Where drift_audit.yaml is ("" = $DRIFT_AUDIT_CONFIG, else ./drift_audit.yaml)."""

    config_path: str = ""

    def load(self) -> Config:
        return load_config(self.config_path or None)


class SparkResource(ConfigurableResource):
    """The process's SparkSession; `master` overrides `spark.master` of the YAML (e.g. spark://host:7077)."""

    settings: AuditSettings
    master: str = ""

    def session(self) -> SparkSession:
        cfg = self.settings.load()
        return get_spark(self.master or cfg.spark.master, cfg.spark.conf, cfg.spark.driver_memory)


class FeastResource(ConfigurableResource):
    settings: AuditSettings

    def store(self) -> Any:
        return feast_store.open_store(self.settings.load())


class MLflowResource(ConfigurableResource):
    """The model registry at `mlflow.tracking_uri` (which $MLFLOW_TRACKING_URI overrides)."""

    settings: AuditSettings

    def uri(self) -> str:
        from drift_audit.adapters.mlflow_registry import resolve_tracking_uri

        cfg = self.settings.load()
        return resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir))


class ContractsResource(ConfigurableResource):
    """The schema registry: the Git repository holding the contracts folder (or a mirror of `git_repo`)."""

    settings: AuditSettings

    def registry(self) -> tuple[Path, str]:
        """(Git repository, contracts folder inside it), fetched first when it mirrors a remote."""
        from drift_audit.stages.registry import locate

        return locate(self.settings.load())
