"""offline_sample and online_sample: deterministic, hash-pinned, point-in-time aligned (docs/sampling.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from drift_audit.adapters import feast_store
from drift_audit.config import Config, OnlineSource
from drift_audit.core.contract import Contract
from drift_audit.core.contract_diff import logical_type
from drift_audit.core.errors import InputDataError
from drift_audit.core.findings import Finding, severity_for
from drift_audit.spark import io
from drift_audit.spark.sample import align_point_in_time, frame_hash, hash_sample, sample_rate
from drift_audit.stages.window import PartitionWindow

PARTITION, REFERENCE = "partition", "reference"


@dataclass
class Sample:
    """A sample as the IO manager stores it: parquet rows plus JSON metadata (hashes, counts, schemas)."""

    df: DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


def _spark_type(logical: str) -> str:
    return {"float64": "double", "float32": "double", "int32": "double", "int64": "double", "bool": "boolean",
            "string": "string", "bytes": "binary", "timestamp": "timestamp"}.get(logical, "string")


def offline(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow) -> Sample:
    gs = cfg.group(contract.group)
    root = cfg.path(gs.offline.path)
    source = io.list_parquet(root, window.file_days)
    ts = contract.event_timestamp
    if source.files and ts not in source.schema:
        raise InputDataError(f"event timestamp column {ts!r} of {contract.group} not found in {root}")
    rate = sample_rate(source.rows, cfg.audit.max_sample_rows, gs.sample_rate)
    keys = list(contract.entity_keys)
    for key in keys:
        if source.files and key not in source.schema:
            raise InputDataError(f"entity key column {key!r} of {contract.group} not found in {root}")
    present = [f for f in contract.feature_names if f in source.schema]
    meta: dict[str, Any] = {
        "feature_group": contract.group, "window": window.describe(), "seed": cfg.audit.seed, "rate": rate,
        "source": {"path": str(root), "files": len(source.files), "rows_in_files": source.rows,
                   "sha256": source.sha256},
        "schema": {c: logical_type(t) for c, t in sorted(source.schema.items())},
        "field_metadata": field_metadata(source.files),
        "missing_features": [f for f in contract.feature_names if f not in source.schema],
        "findings": [],
    }
    created = contract.created_timestamp if contract.created_timestamp in source.schema else None
    columns = [*keys, ts, *([created] if created else []), *present]
    if not source.files:
        nulls = ", ".join(f"CAST(NULL AS string) AS `{c}`" for c in [*columns, "_window"])
        df = spark.sql(f"SELECT {nulls} WHERE 1 = 0")
    else:
        df = io.read_parquet(spark, source)
        ev = F.col(ts).cast("timestamp")
        df = df.where((ev >= F.lit(window.reference_start)) & (ev < F.lit(window.end)))
        df = hash_sample(df, keys, cfg.audit.seed, rate).select(*columns)
        df = df.withColumn("_window", F.when(F.col(ts) >= F.lit(window.start), PARTITION).otherwise(REFERENCE))
    counts = {r["_window"]: int(r["count"]) for r in df.groupBy("_window").count().collect()}  # bounded: 2 rows
    meta["rows"] = {"partition": counts.get(PARTITION, 0), "reference": counts.get(REFERENCE, 0)}
    if meta["rows"]["partition"] == 0:
        meta["findings"].append(Finding(
            contract.group, "*", "empty_partition", severity_for(contract.risk_tier, True),
            {"side": "offline", "path": str(root), "window": window.describe(), "files": len(source.files)},
            "offline_sample", ("offline",)).to_dict())
    return Sample(df, meta)


def online(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow,
           offline_sample: Sample, staging: Path, store: Any = None) -> Sample:
    gs = cfg.group(contract.group)
    keys = list(contract.entity_keys)
    off = offline_sample.df
    meta: dict[str, Any] = {"feature_group": contract.group, "window": window.describe(), "sources": {},
                            "findings": []}
    frames = []
    for src in gs.online:
        if src.kind == "feast":
            df, info = _from_feast(cfg, spark, contract, window, off, staging, src, store)
        else:
            df, info = _from_log(cfg, spark, contract, window, src, offline_sample.meta["rate"])
        meta["sources"][src.name] = info
        frames.append(df)
        missing = info.get("keys_missing", 0)
        if missing:
            meta["findings"].append(Finding(
                contract.group, "*", "missing_online_keys", severity_for(contract.risk_tier, False),
                {"side": src.name, "keys_requested": info["keys_requested"], "keys_missing": missing,
                 "share": round(missing / info["keys_requested"], 6)}, "online_sample", (src.name,)).to_dict())
    features = [f.name for f in contract.features]
    union = frames[0]
    for df in frames[1:]:
        union = union.unionByName(df, allowMissingColumns=True)
    for f in features:
        if f not in union.columns:
            continue
        union = union.withColumn(f, F.col(f).cast(_spark_type(contract.feature(f).type)))
    off_cast = off
    aligned_features = [f for f in features if f in union.columns and f in off.columns]
    for f in aligned_features:
        off_cast = off_cast.withColumn(f, F.col(f).cast(_spark_type(contract.feature(f).type)))
    ttl = contract.ttl_seconds or cfg.audit.ttl_hours * 3600
    created = contract.created_timestamp if contract.created_timestamp in off.columns else None
    aligned = align_point_in_time(union, off_cast, keys, contract.event_timestamp, created, aligned_features, ttl)
    aligned = aligned.withColumn("_partition_end", F.lit(window.end).cast("timestamp"))
    meta["aligned_features"] = aligned_features
    meta["ttl_seconds"] = ttl
    return Sample(aligned, meta)


def _sample_keys(off: DataFrame, keys: list[str]) -> list[Any]:
    """Distinct sampled entity keys active in the partition (bounded by the sample size)."""
    active = off.where(F.col("_window") == PARTITION).select(*keys).distinct()
    pdf: Any = active.orderBy(*keys).toPandas()  # bounded: keys of the sample only, never data rows
    if len(keys) == 1:
        return pdf[keys[0]].tolist()
    return [tuple(row) for row in pdf.itertuples(index=False)]


def _from_feast(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow, off: DataFrame,
                staging: Path, src: OnlineSource, store: Any) -> tuple[DataFrame, dict[str, Any]]:
    store = store or feast_store.open_store(cfg)
    info_fv = feast_store.feature_view_info(store, contract.feature_view)
    keys = list(contract.entity_keys)
    if len(keys) != 1:
        raise InputDataError(f"{contract.group}: reading Feast needs exactly one entity key, got {keys}")
    wanted = [f for f in contract.feature_names if f in info_fv.schema]
    entity_keys = _sample_keys(off, keys)
    table = feast_store.read_online(store, contract.feature_view, wanted, keys[0], entity_keys,
                                    cfg.feast.entity_key_batch)
    found = table.filter(pa.compute.field("_found"))
    newer = found.filter(pa.compute.field("_value_ts") >= pa.scalar(window.end, pa.timestamp("us", tz="UTC")))
    kept = found.filter(pa.compute.field("_value_ts") < pa.scalar(window.end, pa.timestamp("us", tz="UTC")))
    kept = kept.drop_columns(["_found"])
    kept = kept.append_column("_source", pa.array([src.name] * kept.num_rows, pa.string()))
    kept = kept.append_column("_request_ts", pa.nulls(kept.num_rows, pa.timestamp("us", tz="UTC")))
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{src.name}.parquet"
    pq.write_table(kept, path, row_group_size=max(1, -(-kept.num_rows // 4)))
    df = spark.read.parquet(str(path))
    observed = {f: info_fv.schema[f] for f in wanted}
    observed.update({c: t for c, t in info_fv.schema.items() if c not in observed})
    return df, {
        "kind": "feast", "feature_view": contract.feature_view, "declared_by": f"feast feature view {contract.feature_view}",
        "schema": observed, "keys_requested": len(entity_keys), "keys_missing": table.num_rows - found.num_rows,
        "values_newer_than_partition": newer.num_rows, "rows": kept.num_rows,
        "sha256": _file_sha(path), "ttl_seconds": info_fv.ttl_seconds,
        "field_metadata": {f: {k: v for k, v in tags.items() if k in METADATA_KEYS}
                           for f, tags in sorted(info_fv.field_tags.items()) if METADATA_KEYS & set(tags)},
    }


def _from_log(cfg: Config, spark: SparkSession, contract: Contract, window: PartitionWindow, src: OnlineSource,
              rate: float) -> tuple[DataFrame, dict[str, Any]]:
    assert src.path
    root = cfg.path(src.path)
    metadata: dict[str, dict[str, str]] = {}
    keys = list(contract.entity_keys)
    if src.kind == "parquet":
        source = io.list_parquet(root, (window.day, window.day))
        df = io.read_parquet(spark, source)
        schema, sha = {c: logical_type(t) for c, t in source.schema.items()}, source.sha256
        metadata = field_metadata(source.files)
    else:
        df, sha = io.read_jsonl(spark, root)
        schema = {f.name: logical_type(f.dataType.simpleString()) for f in df.schema.fields}
    for col in [*keys, src.value_timestamp]:
        if col not in df.columns:
            raise InputDataError(f"serving log {root}: column {col!r} not found (online source {src.name!r})")
    req = src.request_timestamp if src.request_timestamp and src.request_timestamp in df.columns else None
    when = F.col(req or src.value_timestamp).cast("timestamp")
    df = df.where((when >= F.lit(window.start)) & (when < F.lit(window.end)))
    df = hash_sample(df, keys, cfg.audit.seed, rate)
    present = [f for f in contract.feature_names if f in df.columns]
    df = df.select(*keys, *present, F.col(src.value_timestamp).cast("timestamp").alias("_value_ts"),
                   (F.col(req).cast("timestamp") if req else F.lit(None).cast("timestamp")).alias("_request_ts"),
                   F.lit(src.name).alias("_source"))
    rows, content = frame_hash(df)
    drop = {src.value_timestamp, *(keys), *([req] if req else [])}
    return df, {"kind": src.kind, "path": str(root), "declared_by": str(root),
                "schema": {c: t for c, t in schema.items() if c not in drop}, "rows": rows,
                "files_sha256": sha, "sha256": content, "field_metadata": metadata}


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


def _file_sha(path: Path) -> str:
    from drift_audit.core.hashing import sha256_file

    return sha256_file(path)
