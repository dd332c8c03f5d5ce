"""`drift_audit.yaml`: one validated file with every setting (see docs/configuration.md).

Paths are relative to the file's folder and, once symlinks are resolved, must stay inside it (or inside
one of `allowed_roots`), so a configuration cannot make the audit read or write elsewhere by accident.
Secrets stay out of the file: any string may say `${NAME}`, read from the environment at load time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drift_audit.core.errors import ConfigError, UnknownFeatureGroupError

DEFAULT_CONFIG_NAME = "drift_audit.yaml"
CONFIG_ENV = "DRIFT_AUDIT_CONFIG"
MLFLOW_ENV = "MLFLOW_TRACKING_URI"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SparkSettings(_Model):
    master: str = "local[*]"
    driver_memory: str | None = None
    conf: dict[str, str] = Field(default_factory=dict)


class OnlineStoreSettings(_Model):
    type: Literal["sqlite", "redis"] = "sqlite"
    path: str = "data/online.db"
    connection_string: str = "127.0.0.1:6379"


class FeastSettings(_Model):
    repo_path: str
    project: str
    registry: str
    online_store: OnlineStoreSettings = OnlineStoreSettings()
    definitions_module: str = "features.py"
    entity_key_batch: int = Field(1000, gt=0)


class MLflowSettings(_Model):
    tracking_uri: str
    window_days: int = Field(3, ge=1)
    baseline_points: int = Field(7, ge=1)


class ContractSettings(_Model):
    root: str = "contracts"
    git_repo: str | None = None


class OfflineSource(_Model):
    """Training rows: parquet files or folders, a Spark catalog table, or the Feast view's batch source."""

    format: Literal["parquet", "table", "feast"] = "parquet"
    path: str = ""
    table: str = ""

    @model_validator(mode="after")
    def _location(self) -> OfflineSource:
        if self.format == "parquet" and not self.path:
            raise ValueError("an offline source of format parquet needs a 'path'")
        if self.format == "table" and not self.table:
            raise ValueError("an offline source of format table needs a 'table'")
        return self


class OnlineSource(_Model):
    """Served values: a Feast online store (this source's own, e.g. one region's, or `feast.online_store`),
    Feast feature-logging parquet (`feast_log`), or parquet / JSONL serving telemetry."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["feast", "feast_log", "parquet", "jsonl"]
    path: str | None = None
    online_store: OnlineStoreSettings | None = None
    value_timestamp: str = "event_ts"
    request_timestamp: str | None = "request_ts"

    @model_validator(mode="after")
    def _path_for_logs(self) -> OnlineSource:
        if self.kind != "feast" and not self.path:
            raise ValueError(f"online source {self.name!r} of kind {self.kind} needs a 'path'")
        if self.kind != "feast" and self.online_store is not None:
            raise ValueError(f"online source {self.name!r}: 'online_store' is only for kind feast")
        return self


class GroupSettings(_Model):
    offline: OfflineSource
    online: list[OnlineSource] = Field(min_length=1)
    sample_rate: float | None = Field(None, gt=0, le=1)
    dependencies: dict[str, str] = Field(default_factory=dict)
    transformations: dict[str, str] = Field(default_factory=dict)

    @field_validator("online")
    @classmethod
    def _unique_names(cls, sources: list[OnlineSource]) -> list[OnlineSource]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"online source names must be unique, repeated: {', '.join(dupes)}")
        return sources


class AuditSettings(_Model):
    reference_days: int = Field(7, ge=1, le=366)
    seed: int = 17
    max_sample_rows: int = Field(200_000, gt=0)
    bins: int = Field(10, ge=2, le=1000)
    top_k: int = Field(50, ge=1, le=10_000)
    quorum: int = Field(2, ge=1, le=3)
    fdr_alpha: float = Field(0.05, gt=0, lt=1)
    skew_tolerance: float = Field(1e-6, ge=0)
    ttl_hours: float = Field(48, gt=0)
    tiers: dict[int, dict[str, float]] = Field(default_factory=dict)


class ReportSettings(_Model):
    """The deliverables of `audit_report` (docs/outputs.md)."""

    # Who signs for a role in PR templates and tickets; a role left out is named by its title.
    approvers: dict[Literal["privacy", "data_governance", "sre"], str] = Field(default_factory=dict)
    mlflow_runs: bool = False  # log each audit as an MLflow run: metrics, and the report as artifacts
    mlflow_experiment: str = Field("drift_audit", min_length=1)


class Config(_Model):
    """The whole file; `base_dir` is the folder paths are relative to (not a key in the file)."""

    output_dir: str = "out"
    allowed_roots: list[str] = Field(default_factory=list)
    partitions_start: str = "2026-01-01"
    contracts: ContractSettings = ContractSettings()
    spark: SparkSettings = SparkSettings()
    feast: FeastSettings
    mlflow: MLflowSettings
    audit: AuditSettings = AuditSettings()
    report: ReportSettings = ReportSettings()
    groups: dict[str, GroupSettings] = Field(min_length=1)
    base_dir: str = Field("", exclude=True)

    def path(self, relative: str) -> Path:
        """Resolve a configured path; it must stay inside the config folder or an allowed root."""
        return resolve_inside(Path(self.base_dir), relative, [Path(r) for r in self.allowed_roots])

    def rel(self, path: str | Path) -> str:
        """A path for outputs: relative to the config folder when inside it, so outputs stay portable."""
        target = Path(path).resolve()
        base = Path(self.base_dir).resolve()
        return target.relative_to(base).as_posix() if base in target.parents or target == base else str(target)

    def group(self, name: str) -> GroupSettings:
        if name not in self.groups:
            known = ", ".join(sorted(self.groups)) or "none"
            raise UnknownFeatureGroupError(
                f"unknown feature group {name!r}: drift_audit.yaml declares {known}"
            )
        return self.groups[name]

    @property
    def output_root(self) -> Path:
        return self.path(self.output_dir)


def resolve_inside(base: Path, relative: str, extra_roots: list[Path] | None = None) -> Path:
    roots = [base.resolve()] + [(base / r).resolve() for r in (extra_roots or [])]
    target = (base / relative).resolve()
    if not any(target == r or r in target.parents for r in roots):
        raise ConfigError(
            f"path {relative!r} resolves to {target}, outside the configured roots "
            f"({', '.join(str(r) for r in roots)}); add its folder to allowed_roots if intended"
        )
    return target


def _expand_env(value: Any, cfg_path: Path, where: str) -> Any:
    """`${NAME}` in any string becomes the environment variable's value; an unset one is an error naming
    the key and the variable (never its value)."""
    if isinstance(value, dict):
        return {k: _expand_env(v, cfg_path, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, cfg_path, f"{where}.{i}") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{cfg_path}: {where}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(lookup, value)


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the YAML file; every problem names the file and the key."""
    cfg_path = Path(path) if path else default_config_path()
    if not cfg_path.is_file():
        raise ConfigError(f"configuration file not found: {cfg_path} (set {CONFIG_ENV} or pass --config)")
    try:
        raw = yaml.safe_load(cfg_path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: expected a mapping at the top level")
    raw = _expand_env(raw, cfg_path, "")
    if os.environ.get(MLFLOW_ENV) and isinstance(raw.get("mlflow"), dict):  # one override for every reader
        raw["mlflow"]["tracking_uri"] = os.environ[MLFLOW_ENV]
    raw["base_dir"] = str(cfg_path.resolve().parent)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {msg}")
        raise ConfigError(f"{cfg_path}: " + "; ".join(problems)) from None
