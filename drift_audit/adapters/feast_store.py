"""Feast behind our interface: open the store from drift_audit.yaml, read online values, read schemas."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from drift_audit.config import Config, OnlineStoreSettings
from drift_audit.core.errors import ConfigError, ServiceUnavailableError, redact

# Feast type name -> logical type (docs/contracts.md)
FEAST_TYPES = {
    "Float64": "float64", "Float32": "float32", "Int32": "int32", "Int64": "int64",
    "Bool": "bool", "String": "string", "Bytes": "bytes", "UnixTimestamp": "timestamp",
}
ARROW_TYPES = {
    "float64": pa.float64(), "float32": pa.float32(), "int32": pa.int32(), "int64": pa.int64(),
    "bool": pa.bool_(), "string": pa.string(), "bytes": pa.binary(), "timestamp": pa.timestamp("us", tz="UTC"),
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


def open_store(cfg: Config, online_store: OnlineStoreSettings | None = None):  # type: ignore[no-untyped-def]
    """A FeatureStore over the configured registry and online store (no feature_store.yaml needed);
    `online_store` replaces `feast.online_store` (one region's store, say)."""
    logging.getLogger("feast").setLevel(logging.ERROR)
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    settings = online_store or cfg.feast.online_store
    online: dict[str, Any]
    if settings.type == "sqlite":
        path = cfg.path(settings.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        online = {"type": "sqlite", "path": str(path)}
    else:
        online = {"type": "redis", "connection_string": settings.connection_string}
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
        "table": str(getattr(source, "table", "") or ""),
        "timestamp_field": source.timestamp_field or "",
        "created_timestamp_column": source.created_timestamp_column or "",
    }


def _batches(keys: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


def read_online(
    store: Any, view: str, features: dict[str, str], join_keys: dict[str, pa.DataType],
    keys: Sequence[tuple[Any, ...]], batch: int,
) -> pa.Table:
    """Online values and their event timestamps for `keys` (tuples in `join_keys` order), `batch` keys per
    request.

    `features` maps each feature to its logical type (used when no key has a value). Returns columns: the
    join keys, each feature, `_value_ts` (UTC; the newest of the row's feature timestamps) and `_found`
    (the key had a value)."""
    names = list(features)
    refs = [f"{view}:{f}" for f in names]
    tables = []
    for chunk in _batches(list(keys), batch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                resp = store.get_online_features(
                    features=refs, entity_rows=[dict(zip(join_keys, k, strict=True)) for k in chunk]
                ).to_dict(include_event_timestamps=True)
        except Exception as exc:  # the store's client raises many types
            raise ServiceUnavailableError(
                redact(f"online store of feature view {view!r} could not be read: {type(exc).__name__}: {exc}")
            ) from exc
        ts_cols = [resp[f"{f}__ts"] for f in names if f"{f}__ts" in resp]
        # the store answers 0 for "no value"
        seconds = [max((c[i] for c in ts_cols if c[i]), default=None) for i in range(len(chunk))]
        found = [any(resp[f][i] is not None for f in names) for i in range(len(chunk))]
        cols = {**{k: pa.array(resp[k], t) for k, t in join_keys.items()},
                **{f: _typed(resp[f], features[f]) for f in names},
                "_value_ts": pa.array([None if s is None else s * 1_000_000 for s in seconds],
                                      pa.timestamp("us", tz="UTC")),
                "_found": pa.array(found, pa.bool_())}
        tables.append(pa.table(cols))
    if not tables:
        empty = {**{k: pa.array([], t) for k, t in join_keys.items()}, **{f: _typed([], features[f]) for f in names},
                 "_value_ts": pa.array([], pa.timestamp("us", tz="UTC")), "_found": pa.array([], pa.bool_())}
        return pa.table(empty)
    return pa.concat_tables(tables, promote_options="permissive")


def _typed(values: list[Any], logical: str) -> pa.Array:
    """Values as Arrow infers them (so a store serving another type shows it), typed when all are null."""
    if all(v is None for v in values):
        return pa.nulls(len(values), ARROW_TYPES.get(logical, pa.string()))
    return pa.array(values)
