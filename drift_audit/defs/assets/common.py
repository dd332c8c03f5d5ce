"""What every asset body needs: its partition's window and config, and pinned metadata."""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass
from typing import Any

from dagster import AssetExecutionContext, BetaWarning, DataVersion, MetadataValue, Output

from drift_audit.config import Config
from drift_audit.core.contract import Contract
from drift_audit.core.hashing import sha256_json
from drift_audit.defs.partitions import audit_partitions, split
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages.contracts import contract_of
from drift_audit.stages.window import PartitionWindow, parse_day

LIBRARIES = ("pyspark", "dagster", "feast", "great-expectations", "mlflow", "scipy", "numpy", "pyarrow",
             "protobuf", "drift_audit")
ASSET_KW: dict[str, Any] = {"partitions_def": audit_partitions, "io_manager_key": "audit_io", "group_name": "audit"}


@dataclass(frozen=True)
class Partition:
    cfg: Config
    day: str
    group: str
    window: PartitionWindow


def partition(context: AssetExecutionContext, settings: AuditSettings) -> Partition:
    cfg = settings.load()
    day, group = split(context.partition_key)
    return Partition(cfg, day, group, PartitionWindow(parse_day(day), cfg.audit.reference_days))


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


def contract_from(snapshot: dict[str, Any]) -> Contract:
    return contract_of(snapshot)


def pinned(value: Any, inputs: dict[str, Any], content_hash: str | None = None, **metadata: Any) -> Output:
    """Output whose DataVersion is its content hash, with the hashes of its inputs in the metadata."""
    digest = content_hash or sha256_json(value if not hasattr(value, "meta") else value.meta)
    meta: dict[str, Any] = {"sha256": digest, "inputs": MetadataValue.json(inputs),
                            "libraries": MetadataValue.json(library_versions())}
    meta.update(metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # data_version is beta, and what DESIGN.md asks for
        return Output(value, data_version=DataVersion(digest), metadata=meta)


def input_hashes(**values: Any) -> dict[str, str]:
    """sha256 of each JSON input, or the recorded content hash of a sample."""
    out = {}
    for name, value in values.items():
        meta = getattr(value, "meta", None)
        out[name] = meta.get("sha256", "") if meta is not None else sha256_json(value)
    return out


def findings_count(value: dict[str, Any]) -> int:
    return len(value.get("findings", []))
