"""Reading sources with errors that name the file: parquet files or folders, JSONL exports, Spark tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from drift_audit.core.errors import InputDataError
from drift_audit.core.hashing import sha256_files

# Folders that name a day: hive `date=`/`ds=`/`dt=`/`event_date=`/`__log_date=` (Feast feature logging),
# or a bare `YYYY-MM-DD` (Feast's file logging destination partitioned by `__log_date`).
_DATE_DIR = re.compile(r"^(?:(?:date|ds|dt|event_date|__log_date)=)?(\d{4}-\d{2}-\d{2})$")
_HIVE_DIR = re.compile(r"^([^=/]+)=(.*)$")
DATE_COLUMNS = ("date", "ds", "dt", "event_date")


@dataclass(frozen=True)
class TimeFilter:
    """Rows whose `column` lies in [start, end): used to bound the rows a window can hold from footers."""

    column: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ParquetSource:
    """The files of a parquet source that a window needs, checked and hashed."""

    root: Path
    files: tuple[Path, ...]
    rows: int
    schema: dict[str, str]  # column -> Arrow type, as the files declare it
    partition_columns: tuple[str, ...]
    sha256: str
    rows_in_window: int = 0  # upper bound from row-group statistics (= rows without a TimeFilter)
    columns_missing_in: dict[str, int] = field(default_factory=dict)  # column -> files without it


def _is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "_")) and path.suffix in (".parquet", "")


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows_in_window(meta: pq.FileMetaData, time: TimeFilter | None) -> int:
    """Rows of the row groups whose [min, max] of the time column overlaps the window (an upper bound)."""
    if time is None:
        return int(meta.num_rows)
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if time.column not in names:
        return int(meta.num_rows)
    col = names.index(time.column)
    rows = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        stats = group.column(col).statistics
        lo, hi = (_utc(stats.min), _utc(stats.max)) if stats is not None and stats.has_min_max else (None, None)
        if lo is None or hi is None or (hi >= time.start and lo < time.end):
            rows += group.num_rows
    return rows


def _list_files(root: Path, window: tuple[date, date] | None) -> tuple[list[Path], list[str]]:
    if not root.exists():
        raise InputDataError(f"source not found: {root}")
    if root.is_file():
        return [root], []
    partition_cols: list[str] = []
    kept = []
    for path in sorted(p for p in root.rglob("*") if _is_data_file(p)):
        parts = path.relative_to(root).parts[:-1]
        for part in parts:
            hive = _HIVE_DIR.match(part)
            if hive and hive.group(1) not in partition_cols:
                partition_cols.append(hive.group(1))
        day = next((m.group(1) for p in parts if (m := _DATE_DIR.match(p))), None)
        if window is None or day is None or window[0].isoformat() <= day <= window[1].isoformat():
            kept.append(path)
    return kept, partition_cols


def list_parquet(root: Path, window: tuple[date, date] | None = None,
                 time: TimeFilter | None = None) -> ParquetSource:
    """List, check and hash the parquet files under `root`; with `window` (start, end inclusive) only the
    day-partitioned folders inside it. Unreadable files and conflicting column types are errors naming the
    files; a column missing from some files is allowed (read as null there) and counted."""
    files, partition_cols = _list_files(root, window)
    schema: dict[str, str] = {}
    first_seen: dict[str, Path] = {}
    present: dict[str, int] = {}
    rows = in_window = 0
    for path in files:
        try:
            meta = pq.read_metadata(path)
            file_schema = meta.schema.to_arrow_schema()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"unreadable parquet file {path}: {exc}") from None
        rows += meta.num_rows
        in_window += _rows_in_window(meta, time)
        for fld in file_schema:
            typ = str(fld.type)
            if fld.name in schema and schema[fld.name] != typ:
                raise InputDataError(
                    f"column {fld.name!r} is {schema[fld.name]} in {first_seen[fld.name]} "
                    f"but {typ} in {path}: files of one source must agree on types"
                )
            schema.setdefault(fld.name, typ)
            first_seen.setdefault(fld.name, path)
            present[fld.name] = present.get(fld.name, 0) + 1
    missing = {c: len(files) - n for c, n in sorted(present.items()) if n < len(files)}
    base = root if root.is_dir() else root.parent
    return ParquetSource(root, tuple(files), rows, schema, tuple(partition_cols), sha256_files(files, base),
                         in_window, missing)


def read_parquet(spark: SparkSession, source: ParquetSource) -> DataFrame:
    """Spark DataFrame over exactly the listed files (partition columns dropped; columns that only some
    files have are merged in, null elsewhere)."""
    if not source.files:
        raise InputDataError(f"no parquet files under {source.root} for the requested window")
    base = str(source.root if source.root.is_dir() else source.root.parent)
    reader = spark.read.option("basePath", base)
    if source.columns_missing_in:
        reader = reader.option("mergeSchema", "true")
    df = reader.parquet(*[str(p) for p in source.files])
    for col, typ in source.schema.items():
        if typ.startswith("timestamp[ns"):
            df = df.withColumn(col, F.expr(f"timestamp_micros(div(`{col}`, 1000))"))
    return df.drop(*[c for c in source.partition_columns if c not in source.schema])


def read_jsonl(spark: SparkSession, root: Path) -> tuple[DataFrame, str]:
    """The `.jsonl` files under `root` and their sha256; a malformed line is an error naming its file."""
    if not root.exists():
        raise InputDataError(f"source not found: {root}")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    if not files:
        raise InputDataError(f"no .jsonl files under {root}")
    df = _json(spark, files)
    if _CORRUPT in df.columns:  # schema inference saw a malformed line: find the first file that has one
        bad = next(p for p in files if _CORRUPT in _json(spark, [p]).columns)
        raise InputDataError(f"unreadable JSONL file {bad}: a line is not a JSON object")
    return df, sha256_files(files, root if root.is_dir() else root.parent)


_CORRUPT = "_corrupt_record"


def _json(spark: SparkSession, files: list[Path]) -> DataFrame:
    return spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", _CORRUPT).json(
        [str(p) for p in files])


def read_table(spark: SparkSession, name: str, window: tuple[date, date] | None = None
               ) -> tuple[DataFrame, tuple[str, ...]]:
    """A table of the session's catalog and its partition columns; with `window`, its day partition
    (`date`, `ds`, `dt` or `event_date`, when the table is partitioned by one) is pruned to the days inside."""
    try:
        df = spark.table(name)
        partitioned = tuple(c.name for c in spark.catalog.listColumns(name) if c.isPartition)
    except AnalysisException as exc:
        raise InputDataError(f"Spark table {name!r} cannot be read: {str(exc).splitlines()[0]}") from None
    day_col = next((c for c in DATE_COLUMNS if c in partitioned), None)
    if window is not None and day_col is not None:
        df = df.where(F.col(day_col).cast("string").between(window[0].isoformat(), window[1].isoformat()))
    return df, partitioned
