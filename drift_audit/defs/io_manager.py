"""Partition-aware storage of asset outputs under `<output_dir>/_assets/<asset>/<date>/<group>/`.

Samples (parquet + meta.json) are written byte-reproducibly: hash-partitioned, sorted, with fixed file
names; everything else as canonical JSON. Writes are atomic (temp folder, then rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext

from drift_audit.core.hashing import canonical_json, sha256_files, sha256_text
from drift_audit.defs.partitions import split
from drift_audit.defs.resources import AuditSettings, SparkResource
from drift_audit.spark.sample import stable_layout
from drift_audit.stages.samples import Sample
from drift_audit.storage import atomic_dir

ROWS_PER_FILE = 250_000


class AuditIOManager(ConfigurableIOManager):
    settings: AuditSettings
    spark: SparkResource

    def _dir(self, context: InputContext | OutputContext) -> Path:
        asset = context.asset_key.path[-1]
        day, group = split(context.asset_partition_key)
        return self.settings.load().output_root / "_assets" / asset / day / group

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        final = self._dir(context)
        if isinstance(obj, Sample):
            meta = write_sample(obj, final)
            obj.df.unpersist()  # the stage cached it for its counts and hash; downstream reads the files
            context.add_output_metadata({"path": str(final), "files_sha256": meta["files_sha256"]})
            return
        text = canonical_json(obj)
        with atomic_dir(final) as tmp:
            (tmp / "value.json").write_text(text, encoding="utf-8")
        context.add_output_metadata({"path": str(final / "value.json"), "sha256": sha256_text(text)})

    def load_input(self, context: InputContext) -> Any:
        final = self._dir(context)
        if (final / "value.json").is_file():
            return json.loads((final / "value.json").read_text(encoding="utf-8"))
        if (final / "meta.json").is_file():
            meta = json.loads((final / "meta.json").read_text(encoding="utf-8"))
            return Sample(self.spark.session().read.parquet(str(final / "data")), meta)
        raise FileNotFoundError(f"no stored output of {context.asset_key.to_user_string()} for partition "
                                f"{context.asset_partition_key} at {final}: materialize it first")


def write_sample(sample: Sample, final: Path) -> dict[str, Any]:
    """Write rows and metadata; returns the metadata with `files_sha256` of the parquet files added."""
    df = sample.df
    keys = [c for c in df.columns if not c.startswith("_")][:1] or df.columns[:1]
    order = sorted(c for c in df.columns)
    rows = sum(v for v in sample.meta.get("rows", {}).values()) if isinstance(sample.meta.get("rows"), dict) else 0
    files = max(1, min(16, (rows or ROWS_PER_FILE) // ROWS_PER_FILE + 1))
    with atomic_dir(final) as tmp:
        stable_layout(df, keys, order, files).write.parquet(str(tmp / "data"))
        parts = sorted(p for p in (tmp / "data").iterdir() if p.name.startswith("part-"))
        for p in (tmp / "data").iterdir():
            if not p.name.startswith("part-"):
                p.unlink()
        for i, p in enumerate(parts):
            os.replace(p, tmp / "data" / f"part-{i:05d}.parquet")
        data_files = sorted((tmp / "data").glob("part-*.parquet"))
        meta = {**sample.meta, "files_sha256": sha256_files(data_files, tmp / "data")}
        (tmp / "meta.json").write_text(canonical_json(meta), encoding="utf-8")
    return meta
