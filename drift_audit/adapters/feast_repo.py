"""The Feast feature repository as Python defines it (not as the registry last applied it), in plain dicts.

The definitions module (`feast.definitions_module` in `feast.repo_path`) is executed under a module name of
its own, the way `feast apply` imports a repo, and every Feast object it defines at module level is
summarized: feature views and stream feature views with their sources, TTL, schema, field tags and
aggregations; on-demand feature views with their sources and a sha256 of their transformation's source.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from drift_audit.core.errors import InputDataError


def load(module_path: Path) -> dict[str, Any]:
    """{"module", "feature_views": [...], "on_demand_feature_views": [...]} of the module's objects."""
    logging.getLogger("feast").setLevel(logging.ERROR)
    from feast import FeatureView, StreamFeatureView
    from feast.on_demand_feature_view import OnDemandFeatureView

    if not module_path.is_file():
        raise InputDataError(f"Feast definitions module not found: {module_path}")
    name = "drift_audit_feast_defs_" + hashlib.sha256(str(module_path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, module_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(module_path.parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    except Exception as exc:
        raise InputDataError(f"Feast definitions {module_path} failed to load: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(module_path.parent))
    objects = list(vars(module).values())
    views = [o for o in objects if isinstance(o, FeatureView | StreamFeatureView)]
    odfvs = [o for o in objects if isinstance(o, OnDemandFeatureView)]
    return {"module": module_path.name,
            "feature_views": sorted((_view(v) for v in _unique(views)), key=lambda v: v["name"]),
            "on_demand_feature_views": sorted((_odfv(v) for v in _unique(odfvs)), key=lambda v: v["name"])}


def _unique(objects: list[Any]) -> list[Any]:
    out: list[Any] = []
    for o in objects:
        if not any(o is x for x in out):
            out.append(o)
    return out


def source(src: Any) -> dict[str, Any] | None:
    if src is None:
        return None
    out: dict[str, Any] = {
        "name": src.name, "type": type(src).__name__,
        "path": str(getattr(src, "path", "") or getattr(src, "table", "") or "") or None,
        "timestamp_field": src.timestamp_field or None,
        "created_timestamp_column": src.created_timestamp_column or None,
        "field_mapping": dict(sorted((src.field_mapping or {}).items())),
    }
    options = getattr(src, "kafka_options", None)
    if options is not None:
        out["topic"] = options.topic
    if getattr(src, "batch_source", None) is not None:
        out["batch_source"] = source(src.batch_source)
    return out


def _sha_of(func: Any, fallback: str = "") -> str | None:
    try:
        text = inspect.getsource(func) if func is not None else fallback
    except (OSError, TypeError):
        text = fallback
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def _view(v: Any) -> dict[str, Any]:
    stream = getattr(v, "stream_source", None)
    transformation = getattr(v, "feature_transformation", None)
    return {
        "name": v.name, "type": type(v).__name__, "entities": sorted(v.entities),
        "ttl_seconds": v.ttl.total_seconds() if v.ttl else None,
        "batch_source": source(v.batch_source), "stream_source": source(stream),
        "schema": {f.name: str(f.dtype) for f in v.features},
        "field_tags": {f.name: dict(sorted(f.tags.items())) for f in v.features if f.tags},
        "aggregations": [{"feature": a.name or a.column, "column": a.column, "function": a.function,
                          "window_seconds": a.time_window.total_seconds() if a.time_window else None}
                         for a in getattr(v, "aggregations", None) or []],
        "transformation_sha256": _sha_of(getattr(v, "udf", None),
                                         getattr(transformation, "udf_string", "") or "") if transformation else None,
    }


def _odfv(v: Any) -> dict[str, Any]:
    t = v.feature_transformation
    return {
        "name": v.name, "mode": str(getattr(v, "mode", "")),
        "sources": sorted([*v.source_feature_view_projections, *v.source_request_sources]),
        "schema": {f.name: str(f.dtype) for f in v.features},
        "transformation_sha256": _sha_of(getattr(t, "udf", None), getattr(t, "udf_string", "") or ""),
    }
