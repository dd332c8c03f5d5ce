"""Feast behind our interface: open the store from drift_audit.yaml, read online values, read schemas."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from drift_audit.config import Config
from drift_audit.core.errors import ConfigError, ServiceUnavailableError

# Feast type name -> logical type (docs/contracts.md)
FEAST_TYPES = {
    "Float64": "float64", "Float32": "float32", "Int32": "int32", "Int64": "int64",
    "Bool": "bool", "String": "string", "Bytes": "bytes", "UnixTimestamp": "timestamp",
}


@dataclass(frozen=True)
class FeatureViewInfo:
    name: str
    entities: tuple[str, ...]
    join_keys: tuple[str, ...]
    ttl_seconds: float | None
    schema: dict[str, str]  # feature -> logical type
    batch_source: dict[str, str]
    stream_source: dict[str, str] | None
    tags: dict[str, str]
    field_tags: dict[str, dict[str, str]] = field(default_factory=dict)  # feature -> its Field tags


def open_store(cfg: Config):  # type: ignore[no-untyped-def]
    """A FeatureStore over the configured registry and online store (no feature_store.yaml needed)."""
    logging.getLogger("feast").setLevel(logging.ERROR)
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    online: dict[str, Any]
    if cfg.feast.online_store.type == "sqlite":
        path = cfg.path(cfg.feast.online_store.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        online = {"type": "sqlite", "path": str(path)}
    else:
        online = {"type": "redis", "connection_string": cfg.feast.online_store.connection_string}
    registry = cfg.path(cfg.feast.registry)
    registry.parent.mkdir(parents=True, exist_ok=True)
    repo = cfg.path(cfg.feast.repo_path)
    config = RepoConfig(
        project=cfg.feast.project, provider="local", registry=str(registry), online_store=online,
        offline_store={"type": "file"}, entity_key_serialization_version=3, repo_path=repo,
    )
    return FeatureStore(repo_path=str(repo), config=config)


def load_definitions(cfg: Config, data_dir: Path) -> list[object]:
    """Import the feature repository's definitions module and build its objects for `data_dir`."""
    module_path = cfg.path(cfg.feast.repo_path) / cfg.feast.definitions_module
    if not module_path.is_file():
        raise ConfigError(f"feast.definitions_module not found: {module_path}")
    spec = importlib.util.spec_from_file_location("drift_audit_feature_repo", module_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.definitions(data_dir))


def feature_view_info(store: Any, name: str) -> FeatureViewInfo:
    fv = store.get_feature_view(name)
    batch = fv.batch_source
    stream = getattr(fv, "stream_source", None)
    return FeatureViewInfo(
        name=fv.name,
        entities=tuple(fv.entities),
        join_keys=tuple(col.name for col in fv.entity_columns),
        ttl_seconds=fv.ttl.total_seconds() if fv.ttl else None,
        schema={f.name: FEAST_TYPES.get(str(f.dtype), str(f.dtype).lower()) for f in fv.features},
        batch_source=_source_dict(batch),
        stream_source=_source_dict(stream) if stream is not None else None,
        tags=dict(fv.tags),
        field_tags={f.name: dict(f.tags) for f in fv.features if f.tags},
    )


def _source_dict(source: Any) -> dict[str, str]:
    return {
        "name": source.name,
        "type": type(source).__name__,
        "path": str(getattr(source, "path", "") or ""),
        "timestamp_field": source.timestamp_field or "",
        "created_timestamp_column": source.created_timestamp_column or "",
    }


def _batches(keys: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


def read_online(
    store: Any, view: str, features: Iterable[str], join_key: str, keys: Sequence[Any], batch: int
) -> pa.Table:
    """Online values and their event timestamps for `keys`, read in batches.

    Returns columns: the join key, each feature, `_value_ts` (UTC), `_found` (the key had a value).
    """
    names = list(features)
    refs = [f"{view}:{f}" for f in names]
    tables = []
    for chunk in _batches(list(keys), batch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                resp = store.get_online_features(
                    features=refs, entity_rows=[{join_key: k} for k in chunk]
                ).to_dict(include_event_timestamps=True)
        except Exception as exc:  # the store's client raises many types
            raise ServiceUnavailableError(
                f"online store of feature view {view!r} could not be read: {type(exc).__name__}: {exc}"
            ) from exc
        ts_cols = [resp[f"{f}__ts"] for f in names if f"{f}__ts" in resp]
        value_ts = [max((c[i] for c in ts_cols if c[i] is not None), default=None) for i in range(len(chunk))]
        found = [any(resp[f][i] is not None for f in names) for i in range(len(chunk))]
        seconds = [ts if ts else None for ts in value_ts]  # the store answers 0 for "no value"
        cols = {join_key: resp[join_key], **{f: resp[f] for f in names},
                "_value_ts": pa.array([None if s is None else s * 1_000_000 for s in seconds],
                                      pa.timestamp("us", tz="UTC")),
                "_found": found}
        tables.append(pa.table(cols))
    if not tables:
        return pa.table({join_key: [], **{f: [] for f in names}, "_value_ts": [], "_found": []})
    return pa.concat_tables(tables, promote_options="permissive")
