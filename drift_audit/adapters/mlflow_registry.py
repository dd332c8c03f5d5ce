"""MLflow behind our interface: which registered models consume which features, and their metric history.

Tag convention on registered models (docs/quality-gates.md):
  drift_audit.features          comma-separated `group.feature` (or `group.*`) the model consumes
  drift_audit.metric            the monitored metric logged on the model version's run, e.g. "auc"
  drift_audit.higher_is_better  "true" (default) or "false"
  drift_audit.risk_tier         1, 2 or 3
  drift_audit.owner             the model lead
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from drift_audit.core.errors import ServiceUnavailableError

TAG_FEATURES = "drift_audit.features"
TAG_METRIC = "drift_audit.metric"
TAG_HIGHER = "drift_audit.higher_is_better"
TAG_TIER = "drift_audit.risk_tier"
TAG_OWNER = "drift_audit.owner"


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
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def client(uri: str):  # type: ignore[no-untyped-def]
    _quiet()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def read_models(uri: str) -> list[ModelRecord]:
    """Every registered model carrying the features tag, at its latest version, with metric history."""
    try:
        mc = client(uri)
        registered = list(mc.search_registered_models(max_results=1000))
    except Exception as exc:
        raise ServiceUnavailableError(f"MLflow at {uri} could not be read: {type(exc).__name__}: {exc}") from exc
    records = []
    for rm in sorted(registered, key=lambda r: r.name):
        tags = dict(rm.tags or {})
        if TAG_FEATURES not in tags:
            continue
        versions = sorted(mc.search_model_versions(f"name='{rm.name}'"), key=lambda v: int(v.version))
        if not versions:
            continue
        latest = versions[-1]
        metric = tags.get(TAG_METRIC, "")
        history: tuple[tuple[int, float], ...] = ()
        if metric and latest.run_id:
            points = mc.get_metric_history(latest.run_id, metric)
            history = tuple(sorted((int(p.timestamp), float(p.value)) for p in points))
        records.append(ModelRecord(
            name=rm.name, version=int(latest.version),
            features=tuple(f.strip() for f in tags[TAG_FEATURES].split(",") if f.strip()),
            metric=metric, higher_is_better=tags.get(TAG_HIGHER, "true").lower() != "false",
            risk_tier=int(tags.get(TAG_TIER, "3")), owner=tags.get(TAG_OWNER, ""), history=history,
        ))
    return records
