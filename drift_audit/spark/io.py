"""Reading parquet sources with errors that name the file, and writing samples byte-reproducibly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from drift_audit.core.errors import InputDataError
from drift_audit.core.hashing import sha256_files

_DATE_DIR = re.compile(r"^(?:date|ds|dt|event_date)=(\d{4}-\d{2}-\d{2})$")
_HIVE_DIR = re.compile(r"^([^=/]+)=(.*)$")


@dataclass(frozen=True)
class ParquetSource:
    """The files of a parquet source that a window needs, checked and hashed."""

    root: Path
    files: tuple[Path, ...]
    rows: int
    schema: dict[str, str]  # column -> Arrow type, as the files declare it
    partition_columns: tuple[str, ...]
    sha256: str


def _is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "_")) and path.suffix in (".parquet", "")


def list_parquet(root: Path, window: tuple[date, date] | None = None) -> ParquetSource:
    """List, check and hash the parquet files under `root`; with `window` (start, end inclusive) only the
    `date=YYYY-MM-DD` partitions inside it. Unreadable files and conflicting column types are errors."""
    if not root.exists():
        raise InputDataError(f"source not found: {root}")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if _is_data_file(p))
    partition_cols: list[str] = []
    if root.is_dir():
        kept = []
        for path in files:
            parts = path.relative_to(root).parts[:-1]
            for part in parts:
                hive = _HIVE_DIR.match(part)
                if hive and hive.group(1) not in partition_cols:
                    partition_cols.append(hive.group(1))
            day = next((m.group(1) for p in parts if (m := _DATE_DIR.match(p))), None)
            if window is None or day is None or window[0].isoformat() <= day <= window[1].isoformat():
                kept.append(path)
        files = kept
    schema: dict[str, str] = {}
    first_seen: dict[str, Path] = {}
    rows = 0
    for path in files:
        try:
            meta = pq.read_metadata(path)
            file_schema = meta.schema.to_arrow_schema()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"unreadable parquet file {path}: {exc}") from None
        rows += meta.num_rows
        for field in file_schema:
            typ = str(field.type)
            if field.name in schema and schema[field.name] != typ:
                raise InputDataError(
                    f"column {field.name!r} is {schema[field.name]} in {first_seen[field.name]} "
                    f"but {typ} in {path}: files of one source must agree on types"
                )
            schema.setdefault(field.name, typ)
            first_seen.setdefault(field.name, path)
    base = root if root.is_dir() else root.parent
    return ParquetSource(root, tuple(files), rows, schema, tuple(partition_cols), sha256_files(files, base))


def read_parquet(spark: SparkSession, source: ParquetSource) -> DataFrame:
    """Spark DataFrame over exactly the listed files (partition columns dropped)."""
    if not source.files:
        raise InputDataError(f"no parquet files under {source.root} for the requested window")
    base = str(source.root if source.root.is_dir() else source.root.parent)
    df = spark.read.option("basePath", base).parquet(*[str(p) for p in source.files])
    for col, typ in source.schema.items():
        if typ.startswith("timestamp[ns"):
            df = df.withColumn(col, F.expr(f"timestamp_micros(div(`{col}`, 1000))"))
    return df.drop(*[c for c in source.partition_columns if c not in source.schema])


def read_jsonl(spark: SparkSession, root: Path) -> tuple[DataFrame, str]:
    if not root.exists():
        raise InputDataError(f"source not found: {root}")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    if not files:
        raise InputDataError(f"no .jsonl files under {root}")
    df = spark.read.option("mode", "FAILFAST").json([str(p) for p in files])
    return df, sha256_files(files, root if root.is_dir() else root.parent)
