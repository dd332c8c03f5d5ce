"""When rows arrive and which version wins: late-arriving data and duplicated (entity, timestamp) rows.

Aggregations only; one row per side (or per source) reaches the driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def _pct(expr: str) -> Column:
    return F.expr(f"percentile({expr}, array(0.5, 0.95))")


def late_arrivals(offline: DataFrame, online: DataFrame, event_ts: str, created_ts: str | None,
                  cutoff: datetime) -> dict[str, dict[str, Any]]:
    """Per side. Offline (the partition's rows): created - event lag (exact p50, p95, max) and the rows
    created after `cutoff`, which the online store never received. Online, per source: values older than
    the newest offline row of their entity (what late rows leave behind), by how much, and how old the
    values were when served (request - value time, serving logs only)."""
    out: dict[str, dict[str, Any]] = {}
    if created_ts and created_ts in offline.columns:
        lag = F.unix_timestamp(F.col(created_ts).cast("timestamp")) - F.unix_timestamp(F.col(event_ts).cast("timestamp"))
        late = F.col(created_ts).cast("timestamp") > F.lit(cutoff).cast("timestamp")
        r = offline.select(lag.alias("_lag"), late.alias("_late")).agg(
            F.count(F.lit(1)).alias("rows"), _pct("_lag").alias("q"), F.max("_lag").alias("max"),
            F.sum(F.col("_late").cast("int")).alias("late"),
            F.expr("percentile(CASE WHEN _late THEN _lag END, 0.5)").alias("late_p50")).first()
        if r is not None and r["rows"]:
            q = r["q"] or [None, None]
            out["offline"] = {"rows": int(r["rows"]), "lag_p50_s": q[0], "lag_p95_s": q[1], "lag_max_s": r["max"],
                              "late_rows": int(r["late"]), "late_share": round(int(r["late"]) / int(r["rows"]), 6),
                              "late_lag_p50_s": r["late_p50"]}
    behind = F.unix_timestamp("_entity_latest_ts") - F.unix_timestamp("_value_ts")
    age = F.unix_timestamp("_request_ts") - F.unix_timestamp("_value_ts")
    rows = online.select("_source", behind.alias("_behind"), age.alias("_age")).groupBy("_source").agg(
        F.count(F.lit(1)).alias("values"),
        F.sum(F.when(F.col("_behind") > 0, 1).otherwise(0)).alias("behind"),
        F.expr("percentile(CASE WHEN _behind > 0 THEN _behind END, 0.5)").alias("behind_p50"),
        _pct("_age").alias("age"),
    ).collect()  # bounded: one row per source
    for r in sorted(rows, key=lambda r: r["_source"]):
        n = int(r["values"])
        q = r["age"] or [None, None]
        out[r["_source"]] = {"values": n, "behind_offline": int(r["behind"]),
                             "behind_offline_share": round(int(r["behind"]) / n, 6) if n else 0.0,
                             "behind_p50_s": r["behind_p50"], "served_age_p50_s": q[0], "served_age_p95_s": q[1]}
    return out


def fingerprint(features: Mapping[str, str]) -> Column:
    """A hash of a row's feature values, cast alike on both sides (numeric -> double, else string)."""
    cols = [F.col(f).cast("double" if kind == "numeric" else "string") for f, kind in sorted(features.items())]
    return F.xxhash64(*cols) if cols else F.lit(0).cast("long")


def _dup_stats(df: DataFrame, side: Column, keys: Sequence[str], fp: Column) -> dict[str, dict[str, int]]:
    """{side: duplicate keys, their rows, keys whose copies disagree}, every side in one job."""
    sides = df.select(side.alias("_side")).distinct()
    grouped = df.groupBy(side.alias("_side"), *keys).agg(F.count(F.lit(1)).alias("n"), F.countDistinct(fp).alias("v"))
    dup = grouped.where(F.col("n") > 1).groupBy("_side").agg(
        F.count(F.lit(1)).alias("keys"), F.sum("n").alias("rows"),
        F.sum(F.when(F.col("v") > 1, 1).otherwise(0)).alias("conflicting"))
    rows = sides.join(dup, "_side", "left").collect()  # bounded: one row per side
    return {r["_side"]: {"duplicate_keys": int(r["keys"] or 0), "duplicate_rows": int(r["rows"] or 0),
                         "conflicting_keys": int(r["conflicting"] or 0)} for r in sorted(rows, key=lambda r: r["_side"])}


def duplicates(offline: DataFrame, online: DataFrame, keys: Sequence[str], event_ts: str, created_ts: str | None,
               features: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per side: (entity, timestamp) keys written more than once and those whose copies disagree. Offline,
    the version Feast's point-in-time join keeps is the newest created; per online source, which version
    the aligned values carry: that one, another copy (last write won over the newest), or none."""
    fp = fingerprint(features)
    empty = {"duplicate_keys": 0, "duplicate_rows": 0, "conflicting_keys": 0}
    out: dict[str, dict[str, Any]] = {"offline": _dup_stats(offline, F.lit("offline"), [*keys, event_ts], fp)
                                      .get("offline", empty)}
    out.update(_dup_stats(online, F.col("_source"), [*keys, "_value_ts", "_request_ts"], fp))
    if not out["offline"]["conflicting_keys"]:
        return out
    created = F.col(created_ts) if created_ts and created_ts in offline.columns else F.lit(None).cast("timestamp")
    ranked = offline.select(*keys, F.col(event_ts).alias("_offline_ts"), created.alias("_created"), fp.alias("_fp"))
    newest = Window.partitionBy(*keys, "_offline_ts").orderBy(F.col("_created").desc_nulls_last(), F.col("_fp").desc())
    groups = ranked.select("*", F.row_number().over(newest).alias("_r"),
                           F.collect_set("_fp").over(Window.partitionBy(*keys, "_offline_ts")).alias("_versions"))
    winners = groups.where((F.col("_r") == 1) & (F.size("_versions") > 1)).select(
        *keys, "_offline_ts", F.col("_fp").alias("_winner"), "_versions")
    served = online.where(F.col("_offline_ts").isNotNull()).select(*keys, "_offline_ts", "_source", fp.alias("_served"))
    rows = served.join(winners, [*keys, "_offline_ts"]).groupBy("_source").agg(
        F.count(F.lit(1)).alias("aligned"),
        F.sum(F.when(F.col("_served") == F.col("_winner"), 1).otherwise(0)).alias("winner"),
        F.sum(F.when((F.col("_served") != F.col("_winner")) & F.expr("array_contains(_versions, _served)"), 1)
              .otherwise(0)).alias("other"),
    ).collect()  # bounded: one row per source
    for r in rows:
        out[r["_source"]]["last_write_wins"] = {
            "aligned_to_conflicting_keys": int(r["aligned"]), "served_newest_created": int(r["winner"]),
            "served_other_copy": int(r["other"]),
            "served_neither": int(r["aligned"]) - int(r["winner"]) - int(r["other"])}
    return out
