"""What a Dagster instance recorded for a partition: its last audit run, that run's fingerprint, and whether
the outputs it wrote are still on disk unchanged. Backfills decide from this whether to recompute."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from drift_audit.config import Config
from drift_audit.core.hashing import sha256_file, sha256_files
from drift_audit.defs.partitions import key
from drift_audit.stages.fingerprint import FINGERPRINT_TAG, PARTS_TAG, Fingerprint
from drift_audit.stages.report import output_dir
from drift_audit.stages.window import PartitionWindow, parse_day

HISTORY_DAYS = 14  # as the row-count gate (defs/assets/quality.py) reads it


@dataclass(frozen=True)
class Recorded:
    """The partition's last complete audit: every asset's latest materialization came from `run_id`."""

    run_id: str
    fingerprint: str | None
    parts: dict[str, str | None] = field(default_factory=dict)
    outputs_intact: bool = False


@dataclass(frozen=True)
class Decision:
    day: str
    group: str
    run: bool
    reason: str
    fingerprint: Fingerprint
    previous_run_id: str | None = None


def code_versions() -> dict[str, str]:
    """Every asset's code_version plus the library versions recorded in asset metadata."""
    from drift_audit.defs.assets import ASSETS
    from drift_audit.defs.assets.common import library_versions

    out = {f"asset:{k.to_user_string()}": str(v) for a in ASSETS for k, v in a.code_versions_by_key.items()}
    return {**out, **{f"lib:{k}": v for k, v in library_versions().items()}}


def _latest(instance: DagsterInstance, asset: str, day: str, group: str) -> Any:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[str(key(day, group))]), limit=1).records
    return records[0] if records else None


def row_history(instance: DagsterInstance, day: str, group: str) -> list[int]:
    """The offline row counts of the previous days the row-count gate will compare with."""
    d = date.fromisoformat(day)
    out = []
    for i in range(HISTORY_DAYS, 0, -1):
        rec = _latest(instance, "offline_sample", (d - timedelta(days=i)).isoformat(), group)
        mat = rec.asset_materialization if rec else None
        if mat is not None and "rows_partition" in mat.metadata:
            out.append(int(mat.metadata["rows_partition"].value))
    return out


def last_audit(instance: DagsterInstance, cfg: Config, day: str, group: str, assets: Sequence[str]
               ) -> Recorded | None:
    """None unless one run holds the latest materialization of every asset of the partition."""
    latest = {a: _latest(instance, a, day, group) for a in assets}
    run_ids = {r.run_id if r else None for r in latest.values()}
    if len(run_ids) != 1 or None in run_ids:
        return None
    run_id = str(run_ids.pop())
    run = instance.get_run_by_id(run_id)
    tags = run.tags if run else {}
    parts = json.loads(tags.get(PARTS_TAG, "{}"))
    intact = all(_intact(cfg, a, rec.asset_materialization.metadata, day, group) for a, rec in latest.items())
    return Recorded(run_id, tags.get(FINGERPRINT_TAG), parts, intact)


def _intact(cfg: Config, asset: str, metadata: dict[str, Any], day: str, group: str) -> bool:
    """The stored output of an asset (and the report's files) still hash to what was recorded."""
    value = {k: getattr(v, "value", v) for k, v in metadata.items()}
    folder = cfg.output_root / "_assets" / asset / day / group
    if "files_sha256" in value:
        data = sorted((folder / "data").glob("part-*.parquet"))
        if not data or sha256_files(data, folder / "data") != value["files_sha256"]:
            return False
    elif not (folder / "value.json").is_file():
        return False
    files = value.get("files")
    if asset == "audit_report":
        if not isinstance(files, dict):
            return False
        root = output_dir(cfg, PartitionWindow(parse_day(day), cfg.audit.reference_days), group)
        return all((root / rel).is_file() and sha256_file(root / rel) == sha for rel, sha in files.items())
    return True


def decide(fingerprint: Fingerprint, recorded: Recorded | None, day: str, group: str, force: bool = False
           ) -> Decision:
    """Run unless the last complete audit recorded the same fingerprint and its outputs are intact."""
    prev = recorded.run_id if recorded else None

    def d(run: bool, reason: str) -> Decision:
        return Decision(day, group, run, reason, fingerprint, prev)

    if force:
        return d(True, "forced")
    if recorded is None:
        return d(True, "missing: no complete materialization")
    if recorded.fingerprint is None:
        return d(True, "last run recorded no input fingerprint")
    if fingerprint.digest is None:
        return d(True, "not fingerprintable: " + ", ".join(k for k, v in fingerprint.parts.items() if v is None))
    if not recorded.outputs_intact:
        return d(True, "stored outputs missing or changed on disk")
    if fingerprint.digest != recorded.fingerprint:
        return d(True, "changed: " + ", ".join(fingerprint.changed(recorded.parts)))
    return d(False, f"unchanged since run {recorded.run_id[:8]}")
