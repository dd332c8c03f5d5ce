"""MLflow behind our interface: which registered model versions consume which features, and their metrics.

Tag convention (docs/quality-gates.md#model-impact), on the registered model; a model version's own tag
of the same name overrides it for that version:
  drift_audit.features          comma-separated `group.feature` (or `group.*`) the model consumes
  drift_audit.metric            the monitored metric logged on the version's run, e.g. "auc"
  drift_audit.higher_is_better  "true" (default) or "false"
  drift_audit.risk_tier         1, 2 or 3 (default 3)
  drift_audit.owner             the model lead
  drift_audit.tolerance         relative metric drop that counts as a regression (default: the tier's)
The versions read are the latest one and every version holding an alias (e.g. `champion`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift_audit.core.errors import DriftAuditError, InputDataError, ServiceUnavailableError, redact

TAG_FEATURES = "drift_audit.features"
TAG_METRIC = "drift_audit.metric"
TAG_HIGHER = "drift_audit.higher_is_better"
TAG_TIER = "drift_audit.risk_tier"
TAG_OWNER = "drift_audit.owner"
TAG_TOLERANCE = "drift_audit.tolerance"


@dataclass(frozen=True)
class ModelRecord:
    name: str
    version: int
    features: tuple[str, ...]
    metric: str
    higher_is_better: bool
    risk_tier: int
    owner: str
    history: tuple[tuple[int, float], ...]  # (timestamp ms, value), sorted
    aliases: tuple[str, ...] = ()
    tolerance: float | None = None


def resolve_tracking_uri(uri: str, base_dir: Path) -> str:
    """Make a relative `sqlite:///x.db` or plain path absolute against the config folder."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str((base_dir / uri.removeprefix("sqlite:///")).resolve())
    if "://" not in uri:
        return (base_dir / uri).resolve().as_uri()
    return uri


def _quiet() -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    # An unreachable tracking server should fail the audit in seconds, not after MLflow's default
    # 7 retries with exponential backoff (minutes); users can raise these in the environment.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def client(uri: str):  # type: ignore[no-untyped-def]
    _quiet()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def read_models(uri: str) -> list[ModelRecord]:
    """Every consuming model version (latest and aliased) with its metric history, sorted by name, version."""
    try:
        mc = client(uri)
        registered = list(mc.search_registered_models(max_results=1000))
        records = []
        for rm in sorted(registered, key=lambda r: r.name):
            versions = sorted(mc.search_model_versions(f"name='{rm.name}'"), key=lambda v: int(v.version))
            aliases: dict[int, list[str]] = {}
            for alias, version in (rm.aliases or {}).items():  # version search leaves aliases empty
                aliases.setdefault(int(version), []).append(alias)
            chosen = [v for v in versions if int(v.version) in aliases or v is versions[-1]] if versions else []
            for mv in chosen:
                record = _record(mc, rm.name, {**(rm.tags or {}), **(mv.tags or {})}, mv,
                                 tuple(sorted(aliases.get(int(mv.version), ()))))
                if record is not None:
                    records.append(record)
    except DriftAuditError:
        raise
    except Exception as exc:
        raise ServiceUnavailableError(redact(f"MLflow at {uri} could not be read: {type(exc).__name__}: {exc}")) from exc
    return records


def _record(mc: Any, name: str, tags: Mapping[str, str], mv: Any, aliases: tuple[str, ...]) -> ModelRecord | None:
    if TAG_FEATURES not in tags:
        return None
    metric = tags.get(TAG_METRIC, "")
    history: tuple[tuple[int, float], ...] = ()
    if metric and mv.run_id:
        points = mc.get_metric_history(mv.run_id, metric)
        history = tuple(sorted((int(p.timestamp), float(p.value)) for p in points))
    tier, tolerance = tags.get(TAG_TIER, "3"), tags.get(TAG_TOLERANCE)
    if tier not in ("1", "2", "3"):
        raise InputDataError(f"MLflow model {name} v{mv.version}: tag {TAG_TIER}={tier!r} must be 1, 2 or 3")
    try:
        tol = float(tolerance) if tolerance else None
    except ValueError:
        raise InputDataError(f"MLflow model {name} v{mv.version}: tag {TAG_TOLERANCE}={tolerance!r} "
                             "is not a number") from None
    return ModelRecord(
        name=name, version=int(mv.version),
        features=tuple(f.strip() for f in tags[TAG_FEATURES].split(",") if f.strip()),
        metric=metric, higher_is_better=tags.get(TAG_HIGHER, "true").lower() != "false",
        risk_tier=int(tier), owner=tags.get(TAG_OWNER, ""), history=history,
        aliases=aliases, tolerance=tol,
    )
