"""offline_sample and online_sample: deterministic, hash-pinned, point-in-time aligned (docs/sampling.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from drift_audit.adapters import feast_store
from drift_audit.config import Config, OfflineSource, OnlineSource
from drift_audit.core.contract import Contract, masked_pii
from drift_audit.core.contract_diff import logical_type
from drift_audit.core.errors import ConfigError, InputDataError
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.hashing import sha256_file, sha256_files
from drift_audit.spark import io
from drift_audit.spark.sample import align_point_in_time, frame_hash, hash_sample, mask_pii, sample_rate
from drift_audit.stages.window import PartitionWindow

PARTITION, REFERENCE = "partition", "reference"
FEAST_NOT_FOUND, FEAST_OUTSIDE_MAX_AGE = 3, 4  # feast.serving FieldStatus in feature-logging files
_SPARK = {"float64": "double", "float32": "float", "int32": "int", "int64": "bigint", "bool": "boolean",
          "string": "string", "bytes": "binary", "timestamp": "timestamp"}
_KEY_ARROW = {"bigint": pa.int64(), "int": pa.int32(), "smallint": pa.int16(), "string": pa.string()}


@dataclass
class Sample:
    """A sample as the IO manager stores it: parquet rows plus JSON metadata (hashes, counts, schemas)."""

    df: DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Read:
    """An offline source read for a window: rows (None when no file covers it), what it is, how many rows
    the window can hold at most (for the sample rate) and its snapshot hash."""

    df: DataFrame | None
    schema: dict[str, str]  # column -> logical type
    location: str
    max_rows: int
    info: dict[str, Any]
    field_metadata: dict[str, dict[str, str]] = field(default_factory=dict)


def _numeric_as_double(logical: str) -> str:
    """Online and offline values are compared as doubles whatever integer width each store chose."""
    return "double" if logical in ("float64", "float32", "int32", "int64") else _SPARK.get(logical, "string")


# ---------------------------------------------------------------------------------------------- offline


def offline(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow,
            store: Any = None) -> Sample:
    """Rows of the reference window and the partition day, every row of the entities whose seeded key hash
    falls under the rate; tagged `_window` = reference | partition."""
    gs = cfg.group(contract.group)
    read = _read_offline(cfg, spark, contract, window, gs.offline, store)
    ts, keys = contract.event_timestamp, list(contract.entity_keys)
    if read.df is not None:
        for col in [*keys, ts]:
            if col not in read.schema:
                raise InputDataError(f"column {col!r} of {contract.group} (entity key or event timestamp) "
                                     f"not found in {read.location}")
    rate = sample_rate(read.max_rows, cfg.audit.max_sample_rows, gs.sample_rate)
    schema = read.schema if read.df is not None else _contract_schema(contract)
    present = [f for f in contract.feature_names if f in schema]
    created = contract.created_timestamp if contract.created_timestamp in schema else None
    columns = [*keys, ts, *([created] if created else []), *present]
    if read.df is None:
        df = _empty(spark, [*[(c, _SPARK.get(schema[c], "string")) for c in columns], ("_window", "string")])
    else:
        ev = F.col(ts).cast("timestamp")
        df = read.df.where((ev >= F.lit(window.reference_start)) & (ev < F.lit(window.end)))
        df = mask_pii(hash_sample(df, keys, cfg.audit.seed, rate).select(*columns), contract.features)
        df = df.withColumn("_window", F.when(F.col(ts) >= F.lit(window.start), PARTITION).otherwise(REFERENCE))
    df = df.cache()  # counted, hashed and written: read the source once
    counts = {r["_window"]: int(r["count"]) for r in df.groupBy("_window").count().collect()}  # bounded: 2 rows
    meta: dict[str, Any] = {
        "feature_group": contract.group, "window": window.describe(), "seed": cfg.audit.seed, "rate": rate,
        "source": read.info, "schema": dict(sorted(schema.items())), "field_metadata": read.field_metadata,
        "schema_from": "source" if read.df is not None else "contract (no file covers the window)",
        "missing_features": [f for f in contract.feature_names if f not in schema],
        "rows": {"partition": counts.get(PARTITION, 0), "reference": counts.get(REFERENCE, 0)},
        "findings": [],
    }
    if meta["rows"]["partition"] == 0:
        meta["findings"].append(Finding(
            contract.group, "*", "empty_partition", severity_for(contract.risk_tier, True),
            {"side": "offline", "source": read.location, "window": window.describe(),
             "reference_rows": meta["rows"]["reference"]}, "offline_sample", ("offline",)).to_dict())
    return Sample(df, meta)


def _read_offline(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow,
                  src: OfflineSource, store: Any) -> _Read:
    if src.format == "feast":
        batch = feast_store.feature_view_info(store or feast_store.open_store(cfg), contract.feature_view).batch_source
        origin = {"feast_feature_view": contract.feature_view, "feast_batch_source": batch["name"]}
        if batch["table"]:
            return _read_table(spark, contract, window, batch["table"], origin)
        if batch["path"] and "://" not in batch["path"].removeprefix("file://"):
            path = Path(batch["path"].removeprefix("file://"))
            path = path if path.is_absolute() else Path(cfg.feast.repo_path) / path
            return _read_parquet(cfg, spark, contract, window, str(path), origin)
        raise ConfigError(f"batch source {batch['name']!r} of feature view {contract.feature_view!r} is a "
                          f"{batch['type']} drift_audit cannot read: set offline.path or offline.table")
    if src.format == "table":
        return _read_table(spark, contract, window, src.table, {})
    return _read_parquet(cfg, spark, contract, window, src.path, {})


def _read_parquet(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow, path: str,
                  origin: dict[str, str]) -> _Read:
    root = cfg.path(path)
    time = io.TimeFilter(contract.event_timestamp, window.reference_start, window.end)
    src = io.list_parquet(root, window.file_days, time)
    info = {**origin, "kind": "parquet", "path": cfg.rel(root), "files": len(src.files), "rows_in_files": src.rows,
            "rows_in_window_at_most": src.rows_in_window, "columns_missing_in_files": src.columns_missing_in,
            "sha256": src.sha256}
    schema = {c: logical_type(t) for c, t in src.schema.items()}
    return _Read(io.read_parquet(spark, src) if src.files else None, schema, str(root), src.rows_in_window, info,
                 field_metadata(src.files))


def _read_table(spark: SparkSession, contract: Contract, window: PartitionWindow, table: str,
                origin: dict[str, str]) -> _Read:
    df, partitioned = io.read_table(spark, table, window.file_days)
    ts = contract.event_timestamp
    if ts not in df.columns:
        raise InputDataError(f"column {ts!r} of {contract.group} (event timestamp) not found in table {table}")
    ev = F.col(ts).cast("timestamp")
    rows, content = frame_hash(df.where((ev >= F.lit(window.reference_start)) & (ev < F.lit(window.end))))
    info = {**origin, "kind": "table", "table": table, "rows_in_window": rows, "sha256": content}
    schema = {f.name: logical_type(f.dataType.simpleString()) for f in df.schema.fields if f.name not in partitioned}
    return _Read(df, schema, f"table {table}", rows, info)


def _contract_schema(contract: Contract) -> dict[str, str]:
    return {**contract.key_types, contract.event_timestamp: "timestamp",
            **{f.name: f.type for f in contract.features}}


def _empty(spark: SparkSession, columns: list[tuple[str, str]]) -> DataFrame:
    """A typed DataFrame without rows (PySpark 3.3 cannot create one from Python values)."""
    return spark.sql("SELECT " + ", ".join(f"CAST(NULL AS {t}) AS `{c}`" for c, t in columns) + " WHERE 1 = 0")


# ----------------------------------------------------------------------------------------------- online


def online(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow,
           offline_sample: Sample, staging: Path, store: Any = None) -> Sample:
    """Every online source's values for the sampled entities, labelled `_source`, each aligned with the
    offline row in force at its timestamp (spark.sample.align_point_in_time)."""
    gs = cfg.group(contract.group)
    keys = list(contract.entity_keys)
    off = offline_sample.df
    meta: dict[str, Any] = {"feature_group": contract.group, "window": window.describe(), "sources": {},
                            "findings": []}
    frames = []
    for src in gs.online:
        if src.kind == "feast":
            df, info = _from_feast(cfg, spark, contract, window, off, staging, src, store)
        elif src.kind == "feast_log":
            df, info = _from_feast_log(cfg, spark, contract, window, off, src, offline_sample.meta["rate"])
        else:
            df, info = _from_log(cfg, spark, contract, window, off, src, offline_sample.meta["rate"])
        meta["sources"][src.name] = info
        frames.append(mask_pii(df, contract.features))
        if src.kind != "feast" and info["rows"] == 0:
            meta["findings"].append(Finding(
                contract.group, "*", "empty_partition", severity_for(contract.risk_tier, False),
                {"side": src.name, "source": info["path"], "window": window.describe(), "files": info["files"]},
                "online_sample", (src.name,)).to_dict())
        missing = info.get("keys_missing", 0)
        if missing:
            meta["findings"].append(Finding(
                contract.group, "*", "missing_online_keys", severity_for(contract.risk_tier, False),
                {"side": src.name, "keys_requested": info["keys_requested"], "keys_missing": missing,
                 "share": round(missing / info["keys_requested"], 6)}, "online_sample", (src.name,)).to_dict())
    union = frames[0]
    for df in frames[1:]:
        union = union.unionByName(df, allowMissingColumns=True)
    features = [f for f in contract.feature_names if f in union.columns]
    union = union.select(*[F.col(c).cast(_numeric_as_double(contract.feature(c).type)) if c in features
                           else F.col(c) for c in union.columns])
    aligned_features = [f for f in features if f in off.columns]
    off_cast = off.select(*[F.col(c).cast(_numeric_as_double(contract.feature(c).type)) if c in aligned_features
                            else F.col(c) for c in off.columns])
    ttl = contract.ttl_seconds or cfg.audit.ttl_hours * 3600
    created = contract.created_timestamp if contract.created_timestamp in off.columns else None
    aligned = align_point_in_time(union, off_cast, keys, contract.event_timestamp, created, aligned_features, ttl,
                                  window.end).cache()  # summarized, hashed and written
    for name, fresh in _freshness(aligned).items():
        meta["sources"][name]["freshness"] = fresh
    meta["aligned_features"] = aligned_features
    meta["ttl_seconds"] = ttl
    return Sample(aligned, meta)


def _freshness(aligned: DataFrame) -> dict[str, dict[str, Any]]:
    """Per source: values, how many align with an offline row, and quantiles of the two freshness lags."""
    lag_off, lag_end = F.col("_lag_offline_s"), F.col("_lag_partition_end_s")
    rows = aligned.groupBy("_source").agg(
        F.count(F.lit(1)).alias("values"), F.count("_offline_ts").alias("aligned"),
        F.expr("percentile(_lag_offline_s, array(0.5, 0.95))").alias("q_off"), F.max(lag_off).alias("max_off"),
        F.expr("percentile(_lag_partition_end_s, array(0.5, 0.95))").alias("q_end"),
        F.max(lag_end).alias("max_end"),
    ).collect()  # bounded: one row per source

    def q(values: list[float] | None, i: int) -> float | None:
        return None if not values else round(float(values[i]), 3)

    return {r["_source"]: {
        "values": int(r["values"]), "aligned": int(r["aligned"]),
        "lag_behind_offline_s": {"p50": q(r["q_off"], 0), "p95": q(r["q_off"], 1), "max": r["max_off"]},
        "lag_behind_partition_end_s": {"p50": q(r["q_end"], 0), "p95": q(r["q_end"], 1), "max": r["max_end"]},
    } for r in rows}


def sample_keys(off: DataFrame, keys: list[str]) -> list[tuple[Any, ...]]:
    """Distinct sampled entity keys active in the partition, sorted. Bounded by the sample size: keys to
    look up in a key-value store, not data rows."""
    pdf: Any = off.where(F.col("_window") == PARTITION).select(*keys).distinct().orderBy(*keys).toPandas()
    return [tuple(row) for row in pdf.itertuples(index=False)]


def _from_feast(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow, off: DataFrame,
                staging: Path, src: OnlineSource, store: Any) -> tuple[DataFrame, dict[str, Any]]:
    """Values of the sampled keys in this source's Feast online store, read in batches."""
    store = feast_store.open_store(cfg, src.online_store) if src.online_store or store is None else store
    info_fv = feast_store.feature_view_info(store, contract.feature_view)
    keys = list(contract.entity_keys)
    wanted = {f: info_fv.schema[f] for f in contract.feature_names if f in info_fv.schema}
    key_types = {k: _KEY_ARROW.get(dict(off.dtypes)[k], pa.string()) for k in keys}
    entity_keys = sample_keys(off, keys)
    table = feast_store.read_online(store, contract.feature_view, wanted, key_types, entity_keys,
                                    cfg.feast.entity_key_batch)
    found = table.filter(pc.field("_found"))
    end = pa.scalar(window.end, pa.timestamp("us", tz="UTC"))
    newer = found.filter(pc.field("_value_ts") >= end)
    kept = found.filter(pc.field("_value_ts") < end).drop_columns(["_found"])
    kept = kept.append_column("_request_ts", pa.nulls(kept.num_rows, pa.timestamp("us", tz="UTC")))
    kept = kept.append_column("_source", pa.array([src.name] * kept.num_rows, pa.string()))
    for feat in contract.features:  # raw PII never reaches the disk, not even the staging copy
        if feat.is_pii and feat.name in kept.column_names:
            masked = pa.array([masked_pii(v, feat) for v in kept.column(feat.name).to_pylist()], pa.string())
            kept = kept.set_column(kept.column_names.index(feat.name), feat.name, masked)
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{src.name}.parquet"
    pq.write_table(kept, path, row_group_size=max(1, -(-kept.num_rows // 4)))
    store_kind = (src.online_store or cfg.feast.online_store).type
    return spark.read.parquet(str(path)), {
        "kind": "feast", "online_store": store_kind, "feature_view": contract.feature_view,
        "declared_by": f"feast feature view {contract.feature_view}",
        "schema": {**wanted, **{c: t for c, t in info_fv.schema.items() if c not in wanted}},
        "keys_requested": len(entity_keys), "keys_missing": table.num_rows - found.num_rows,
        "values_newer_than_partition": newer.num_rows, "rows": kept.num_rows,
        "sha256": sha256_file(path), "ttl_seconds": info_fv.ttl_seconds,
        "field_metadata": {f: {k: v for k, v in tags.items() if k in METADATA_KEYS}
                           for f, tags in sorted(info_fv.field_tags.items()) if METADATA_KEYS & set(tags)},
    }


def _day_rows(df: DataFrame, when: str, window: PartitionWindow) -> DataFrame:
    ts = F.col(when).cast("timestamp")
    return df.where((ts >= F.lit(window.start)) & (ts < F.lit(window.end)))


def _from_feast_log(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow,
                    off: DataFrame, src: OnlineSource, rate: float) -> tuple[DataFrame, dict[str, Any]]:
    """Feast feature-logging parquet (a feature service's file destination): one row per served entity,
    columns `<view>__<feature>`, `...__timestamp`, `...__status` and `__log_timestamp`."""
    assert src.path
    root = cfg.path(src.path)
    keys = list(contract.entity_keys)
    source = io.list_parquet(root, (window.day, window.day))
    if not source.files:
        return _no_log(spark, cfg, contract, off, src, root)
    prefix = f"{contract.feature_view}__"
    feats = [f for f in contract.feature_names if f"{prefix}{f}" in source.schema]
    for col in [*keys, "__log_timestamp"]:
        if col not in source.schema:
            raise InputDataError(f"Feast feature log {root}: column {col!r} not found (online source {src.name!r})")
    if not feats:
        raise InputDataError(f"Feast feature log {root}: no column {prefix}<feature> for the contract's features")
    df = hash_sample(_day_rows(io.read_parquet(spark, source), "__log_timestamp", window), keys, cfg.audit.seed, rate)
    status = [F.col(f"{prefix}{f}__status") for f in feats]
    not_found = F.greatest(*[s == F.lit(FEAST_NOT_FOUND) for s in status]) if len(status) > 1 else \
        status[0] == F.lit(FEAST_NOT_FOUND)
    df = df.withColumn("_not_found", F.coalesce(not_found, F.lit(False)))
    stats = df.agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col("_not_found").cast("int")).alias("not_found"),
                   F.sum(F.greatest(*[(s == F.lit(FEAST_OUTSIDE_MAX_AGE)).cast("int") for s in status]))
                   .alias("outside_max_age")).first()  # bounded: one row
    missing = df.groupBy(*keys).agg(F.min(F.col("_not_found").cast("int")).alias("m")).agg(
        F.count(F.lit(1)).alias("keys"), F.sum("m").alias("missing")).first()  # bounded: one row
    assert stats is not None and missing is not None
    ts_cols = [F.col(f"{prefix}{f}__timestamp").cast("timestamp") for f in feats]
    value_ts = F.greatest(*ts_cols) if len(ts_cols) > 1 else ts_cols[0]
    df = df.where(~F.col("_not_found")).select(
        *keys, *[F.col(f"{prefix}{f}").alias(f) for f in feats], value_ts.alias("_value_ts"),
        F.col("__log_timestamp").cast("timestamp").alias("_request_ts"), F.lit(src.name).alias("_source"))
    rows, content = frame_hash(df)
    return df, {"kind": "feast_log", "path": cfg.rel(root), "declared_by": f"feast feature log {cfg.rel(root)}",
                "schema": {f: logical_type(source.schema[f"{prefix}{f}"]) for f in feats}, "rows": rows,
                "files": len(source.files),
                "requests": int(stats["rows"]), "requests_not_found": int(stats["not_found"] or 0),
                "values_outside_max_age": int(stats["outside_max_age"] or 0),
                "keys_requested": int(missing["keys"]), "keys_missing": int(missing["missing"] or 0),
                "files_sha256": source.sha256, "sha256": content}


def _from_log(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow, off: DataFrame,
              src: OnlineSource, rate: float) -> tuple[DataFrame, dict[str, Any]]:
    """Serving telemetry (parquet or JSONL): the day's requests, sampled with the offline seed and rate."""
    assert src.path
    root = cfg.path(src.path)
    keys = list(contract.entity_keys)
    if src.kind == "parquet":
        source = io.list_parquet(root, (window.day, window.day))
        if not source.files:
            return _no_log(spark, cfg, contract, off, src, root)
        df, files = io.read_parquet(spark, source), len(source.files)
        schema, sha = {c: logical_type(t) for c, t in source.schema.items()}, source.sha256
        metadata = field_metadata(source.files)
    else:
        df, sha, files = *io.read_jsonl(spark, root), 0
        metadata = {}
        schema = {f.name: logical_type(f.dataType.simpleString()) for f in df.schema.fields}
    for col in [*keys, src.value_timestamp]:
        if col not in df.columns:
            raise InputDataError(f"serving log {root}: column {col!r} not found (online source {src.name!r})")
    req = src.request_timestamp if src.request_timestamp and src.request_timestamp in df.columns else None
    df = hash_sample(_day_rows(df, req or src.value_timestamp, window), keys, cfg.audit.seed, rate)
    present = [f for f in contract.feature_names if f in df.columns]
    df = df.select(*keys, *present, F.col(src.value_timestamp).cast("timestamp").alias("_value_ts"),
                   (F.col(req).cast("timestamp") if req else F.lit(None).cast("timestamp")).alias("_request_ts"),
                   F.lit(src.name).alias("_source"))
    rows, content = frame_hash(df)
    drop = {src.value_timestamp, *keys, *([req] if req else [])}
    return df, {"kind": src.kind, "path": cfg.rel(root), "declared_by": cfg.rel(root),
                "schema": {c: t for c, t in schema.items() if c not in drop}, "rows": rows, "files": files,
                "files_sha256": sha, "sha256": content, "field_metadata": metadata}


def _no_log(spark: SparkSession, cfg: Config, contract: Contract, off: DataFrame, src: OnlineSource,
            root: Path) -> tuple[DataFrame, dict[str, Any]]:
    """No log file covers the day: an empty, typed frame (schema from the contract) and its metadata."""
    types = dict(off.dtypes)
    df = _empty(spark, [*[(k, types[k]) for k in contract.entity_keys],
                        *[(f.name, _SPARK.get(f.type, "string")) for f in contract.features],
                        ("_value_ts", "timestamp"), ("_request_ts", "timestamp"), ("_source", "string")])
    return df, {"kind": src.kind, "path": cfg.rel(root), "declared_by": cfg.rel(root),
                "schema": {f.name: f.type for f in contract.features}, "schema_from": "contract (no file covers the day)",
                "rows": 0, "files": 0, "files_sha256": sha256_files([], root), "sha256": frame_hash(df)[1]}


METADATA_KEYS = frozenset({"unit", "timezone"})


def field_metadata(files: tuple[Path, ...]) -> dict[str, dict[str, str]]:
    """Unit/timezone a parquet source declares per column (Arrow field metadata, a timestamp's zone),
    from its newest file's footer; compared with the contract by contract_diff."""
    if not files:
        return {}
    out: dict[str, dict[str, str]] = {}
    for fld in pq.read_schema(files[-1]):
        meta = {k.decode(): v.decode() for k, v in (fld.metadata or {}).items() if k.decode() in METADATA_KEYS}
        if pa.types.is_timestamp(fld.type) and fld.type.tz and "timezone" not in meta:
            meta["timezone"] = fld.type.tz
        if meta:
            out[fld.name] = dict(sorted(meta.items()))
    return dict(sorted(out.items()))
