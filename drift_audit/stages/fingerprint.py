"""A cheap fingerprint of everything one partition's audit reads, without Spark.

Backfills compare it with the fingerprint recorded by the partition's last materialization and skip the
partition when nothing changed. Parts: the config (global settings and the group's), the contract files,
the offline files of the window, each online source (serving-log files of the day; the Feast registry and
online store), the transformation/dependency files, the MLflow registry state, the offline row history
the row-count gate reads, and the code (asset code versions, library versions). A part that cannot be
fingerprinted cheaply (a Redis online store, an unreadable source) is None, and the partition always runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from drift_audit.config import Config, OnlineSource
from drift_audit.core.errors import DriftAuditError
from drift_audit.core.hashing import sha256_file, sha256_files, sha256_json
from drift_audit.stages.window import PartitionWindow, parse_day

FINGERPRINT_TAG = "drift_audit/fingerprint"
PARTS_TAG = "drift_audit/fingerprint_parts"


@dataclass(frozen=True)
class Fingerprint:
    parts: Mapping[str, str | None]

    @property
    def digest(self) -> str | None:
        """One hash over every part; None when some part could not be fingerprinted."""
        if any(v is None for v in self.parts.values()):
            return None
        return sha256_json(dict(self.parts))

    def changed(self, recorded: Mapping[str, str | None]) -> list[str]:
        keys = set(self.parts) | set(recorded)
        return sorted(k for k in keys if self.parts.get(k) != recorded.get(k) or self.parts.get(k) is None)


def compute(cfg: Config, day: str, group: str, mlflow_uri: str, code: Mapping[str, str],
            row_history: Sequence[int]) -> Fingerprint:
    window = PartitionWindow(parse_day(day), cfg.audit.reference_days)
    gs = cfg.group(group)
    settings = cfg.model_dump(mode="json", exclude={"groups"})
    parts: dict[str, str | None] = {
        "config": sha256_json({"settings": settings, "group": gs.model_dump(mode="json")}),
        "contracts": _guard(lambda: _tree(cfg.path(cfg.contracts.root))),
        "offline": _guard(lambda: _parquet(cfg.path(gs.offline.path), window.file_days)),
        "pipelines": _guard(lambda: _files(cfg, [*gs.dependencies.values(), *gs.transformations.values()])),
        "mlflow": _guard(lambda: _mlflow(mlflow_uri)),
        "row_history": sha256_json(list(row_history)),
        "code": sha256_json(dict(code)),
    }
    for src in gs.online:
        parts[f"online:{src.name}"] = _guard(lambda src=src: _online(cfg, src, window))  # type: ignore[misc]
    return Fingerprint(parts)


def _guard(fn) -> str | None:  # type: ignore[no-untyped-def]
    """A part whose input is missing or unreadable is unknown: the run itself reports the error."""
    try:
        return str(fn())
    except (DriftAuditError, OSError):
        return None


def _tree(root: Path) -> str:
    files = [p for p in root.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.parts)]
    return sha256_files(files, root)


def _parquet(root: Path, days):  # type: ignore[no-untyped-def]
    from drift_audit.spark.io import list_parquet

    return list_parquet(root, days).sha256


def _files(cfg: Config, relative: Sequence[str]) -> str:
    return sha256_json([[cfg.rel(p), sha256_file(p)] for p in sorted({cfg.path(r) for r in relative})])


def _online(cfg: Config, src: OnlineSource, window: PartitionWindow) -> str | None:
    if src.kind == "feast":
        if cfg.feast.online_store.type != "sqlite":
            return None  # a served store cannot be hashed cheaply: always audit
        store, registry = cfg.path(cfg.feast.online_store.path), cfg.path(cfg.feast.registry)
        return sha256_json([sha256_file(store), sha256_file(registry)])
    assert src.path
    root = cfg.path(src.path)
    if src.kind == "parquet":
        return _parquet(root, (window.day, window.day))
    files = [root] if root.is_file() else sorted(root.rglob("*.jsonl"))
    return sha256_files(files, root if root.is_dir() else root.parent)


def _mlflow(uri: str) -> str:
    from drift_audit.adapters.mlflow_registry import read_models

    return sha256_json([asdict(m) for m in read_models(uri)])
