"""Small stores built for a test: a contract, a config over parquet offline data and serving logs, samples.

Data is written as it arrives in production (hive `date=` folders of parquet files) and read back through
the real sampling stages, so tests of later stages see exactly what the pipeline would hand them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from drift_audit.config import Config, load_config
from drift_audit.core.contract import Contract, Feature

TS = pa.timestamp("us", tz="UTC")


def feature(name: str, type_: str, **options: Any) -> Feature:
    return Feature(name=name, type=type_, proto_type=type_, line=1, **options)


def contract(features: Sequence[Feature], group: str = "g", tier: int = 1, sla_s: float | None = 26 * 3600,
             keys: Sequence[str] = ("customer_id",), ttl_s: float | None = 48 * 3600, view: str = "") -> Contract:
    return Contract(
        group=group, message=f"test.{group}", file=f"{group}.proto", line=1, version="1.0.0",
        owners=("team@example.com",), entity_keys=tuple(keys), event_timestamp="event_ts",
        created_timestamp="created_ts", risk_tier=tier, freshness_sla_seconds=sla_s, consuming_models=(),
        data_classification="internal", feature_view=view or group, ttl_seconds=ttl_s, deprecation_window="",
        features=tuple(features))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def write_parquet(path: Path, columns: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(columns if isinstance(columns, pa.Table) else pa.table(dict(columns)), path)
    return path


def write_config(tmp: Path, groups: Sequence[str], extra: Mapping[str, Any] | None = None,
                 group_extra: Mapping[str, Any] | None = None) -> Config:
    """drift_audit.yaml in `tmp`: each group reads `offline/<group>` and one serving log `logs/<group>`."""
    raw: dict[str, Any] = {
        "output_dir": "out",
        "feast": {"repo_path": "feature_repo", "project": "t", "registry": "data/registry.db",
                  "online_store": {"type": "sqlite", "path": "data/online.db"}},
        "mlflow": {"tracking_uri": "sqlite:///mlflow/mlflow.db"},
        "audit": {"reference_days": 2},
        "groups": {g: {"offline": {"path": f"offline/{g}"},
                       "online": [{"name": "serving_log", "kind": "parquet", "path": f"logs/{g}"}],
                       **(group_extra or {})} for g in groups},
        **(extra or {}),
    }
    (tmp / "feature_repo").mkdir(parents=True, exist_ok=True)
    path = tmp / "drift_audit.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=True))
    return load_config(path)


def day_rows(day: date, keys: np.ndarray, features: Mapping[str, Any], event_offset_s: np.ndarray | None = None,
             created_lag_s: np.ndarray | float = 900.0, key: str = "customer_id") -> dict[str, Any]:
    """Offline rows of one day: one per key at 01:00 + offset, created `created_lag_s` later."""
    offset = event_offset_s if event_offset_s is not None else 3600 + (keys * 7) % 3600
    event = [midnight(day) + timedelta(seconds=float(s)) for s in offset]
    lag = np.broadcast_to(np.asarray(created_lag_s, dtype=float), len(keys))
    created = [e + timedelta(seconds=float(x)) for e, x in zip(event, lag, strict=True)]
    return {key: pa.array(keys, pa.int64()), "event_ts": pa.array(event, TS),
            "created_ts": pa.array(created, TS), **features}


def log_rows(day: date, keys: np.ndarray, event_ts: Sequence[datetime], features: Mapping[str, Any],
             request_offset_s: float = 5 * 3600, key: str = "customer_id") -> dict[str, Any]:
    """A serving log of one day: what was served for each key, its value time and the request time."""
    request = [midnight(day) + timedelta(seconds=request_offset_s + i) for i in range(len(keys))]
    return {key: pa.array(keys, pa.int64()), "request_ts": pa.array(request, TS),
            "event_ts": pa.array(list(event_ts), TS), **features}


def write_day(root: Path, group: str, day: date, offline: Mapping[str, Any] | None = None,
              log: Mapping[str, Any] | None = None) -> None:
    part = f"date={day.isoformat()}/part-00000.parquet"
    if offline is not None:
        write_parquet(root / "offline" / group / part, offline)
    if log is not None:
        write_parquet(root / "logs" / group / part, log)


def samples_for(cfg: Config, spark: Any, con: Contract, day: date) -> tuple[Any, Any]:
    """(offline, online) samples of `day` through the real sampling stages."""
    from drift_audit.stages import samples
    from drift_audit.stages.window import PartitionWindow

    window = PartitionWindow(day, cfg.audit.reference_days)
    off = samples.offline(cfg, spark, con, window)
    on = samples.online(cfg, spark, con, window, off, Path(cfg.base_dir) / "staging" / day.isoformat())
    return off, on
