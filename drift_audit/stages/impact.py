"""model_impact: registered models consuming the group's features, and whether they regressed in the window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from drift_audit.adapters import mlflow_registry
from drift_audit.config import Config
from drift_audit.core.impact import model_status
from drift_audit.stages.window import PartitionWindow


def run(cfg: Config, group: str, window: PartitionWindow, records: list[Any] | None = None) -> dict[str, Any]:
    """The window is the `mlflow.window_days` days up to the partition end."""
    if records is None:
        uri = mlflow_registry.resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir))
        records = mlflow_registry.read_models(uri)
    start = window.end - timedelta(days=cfg.mlflow.window_days)
    start_ms, end_ms = int(start.timestamp() * 1000), int(window.end.timestamp() * 1000)
    statuses = [model_status(r, start_ms, end_ms, cfg.mlflow.baseline_points, cfg.audit.tiers) for r in records]
    relevant = [s for s in statuses if any(f.split(".", 1)[0] == group for f in s.features)]
    return {"feature_group": group, "window": {"start": start.isoformat(), "end": window.end.isoformat()},
            "models": [s.to_dict() for s in relevant],
            "regressed": sorted(f"{s.name}@v{s.version}" for s in relevant if s.regressed)}
