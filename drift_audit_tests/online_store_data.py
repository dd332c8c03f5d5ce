"""A small hand-built Feast store for the sampling tests: the `transactions` contract of the repository,
eight days of offline rows in hive `date=` folders, and helpers to configure sources and fill online stores.

Customers 1..CUSTOMERS have one row a day at 01:xx; customers after them (LATE of them) appear only on the
audited day at 21:xx, after the materialization cutoff, so the online store does not know them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from drift_audit.adapters import feast_store
from drift_audit.config import Config, load_config
from drift_audit_tests.conftest import write_demo_config

DAY = date(2026, 3, 10)
GROUP = "transactions"
CUSTOMERS, LATE = 400, 40
CUTOFF = datetime(DAY.year, DAY.month, DAY.day, 20, tzinfo=UTC)  # materialization end on the audited day
CATEGORIES = ("grocery", "travel", "electronics", "dining", "fuel", "other")


@dataclass(frozen=True)
class Store:
    root: Path
    config_path: Path
    offline: pd.DataFrame  # every offline row written (all days)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def config(self) -> Config:
        return load_config(self.config_path)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def offline_rows(days: list[date], seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for day in days:
        cid = np.arange(1, CUSTOMERS + 1, dtype="int64")
        seconds = 3600 + (cid * 37) % 3600
        if day == DAY:
            late = np.arange(CUSTOMERS + 1, CUSTOMERS + LATE + 1, dtype="int64")
            cid, seconds = np.concatenate([cid, late]), np.concatenate([seconds, 21 * 3600 + late % 600])
        n = len(cid)
        event = pd.Series(pd.Timestamp(day_start(day)) + pd.to_timedelta(seconds, unit="s"))
        frames.append(pd.DataFrame({
            "customer_id": cid, "event_ts": event, "created_ts": event + pd.Timedelta(minutes=15),
            "txn_amount_usd": np.round(rng.lognormal(3.8, 0.6, n), 2),
            "txn_count_7d": rng.poisson(12, n).astype("int64"),
            "last_txn_hour": rng.integers(0, 24, n).astype("int32"),
            "avg_txn_amount_30d": np.round(rng.lognormal(3.8, 0.3, n), 4),
            "merchant_category": rng.choice(CATEGORIES, n),
            "chargeback_rate_90d": np.round(rng.beta(1, 60, n), 6),
        }))
    return pd.concat(frames, ignore_index=True)


def write_parquet(df: pd.DataFrame, path: Path, row_groups: int = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, row_group_size=max(1, -(-len(df) // row_groups)), coerce_timestamps="us")


def write_hive(df: pd.DataFrame, root: Path) -> None:
    for day, part in df.groupby(df["event_ts"].dt.date):
        write_parquet(part, root / f"date={day.isoformat()}" / "part-00000.parquet")


def configure(root: Path, online: list[dict[str, Any]], feast_online: dict[str, Any] | None = None,
              **audit: Any) -> Path:
    """drift_audit.yaml in `root` with only the transactions group, the given online sources and offline
    source `offline` (default: the hive folder), the Feast online store `feast_online` (default: SQLite
    under `root`), and audit overrides."""
    path = write_demo_config(root)
    raw = yaml.safe_load(path.read_text())
    if feast_online:
        raw["feast"]["online_store"] = feast_online
    offline = audit.pop("offline", {"path": f"{root}/data/offline/{GROUP}"})
    raw["groups"] = {GROUP: {"offline": offline, "online": online}}
    raw["audit"] = {**raw["audit"], **audit}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def build(root: Path, online: list[dict[str, Any]] | None = None, feast_online: dict[str, Any] | None = None,
          materialize: bool = True, **audit: Any) -> Store:
    """Offline data, the Feast registry, and (by default) the online store materialized up to CUTOFF."""
    days = [DAY - timedelta(days=d) for d in range(7, -2, -1)]  # reference week, the day, and the day after
    df = offline_rows(days)
    write_hive(df, root / "data" / "offline" / GROUP)
    cfg_path = configure(root, online or [{"name": "online_store", "kind": "feast"}], feast_online, **audit)
    store = Store(root, cfg_path, df)
    cfg = store.config()
    fs = feast_store.open_store(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.apply(feast_store.load_definitions(cfg, store.data))
        if materialize:
            fs.materialize(day_start(days[0]), CUTOFF, feature_views=[GROUP])
    return store


def latest_online(df: pd.DataFrame, until: datetime = CUTOFF) -> pd.DataFrame:
    """Independent reference: what Feast materialization should leave online (newest row before `until`)."""
    before = df[df["event_ts"] < pd.Timestamp(until)]
    return before.sort_values(["customer_id", "event_ts"]).groupby("customer_id").tail(1).set_index("customer_id")


def served(df: pd.DataFrame, share: int = 7) -> pd.DataFrame:
    """What the serving path returned on DAY: customers with id % 10 < share asked once each (the late
    ones too, which the store does not know), with the materialized values and their event times."""
    online = latest_online(df)
    ids = np.arange(1, CUSTOMERS + LATE + 1, dtype="int64")
    ids = ids[ids % 10 < share]
    request = pd.Series(pd.Timestamp(day_start(DAY)) + pd.to_timedelta(3 * 3600 + (ids * 97) % 72000, unit="s"))
    out = online.reindex(ids).drop(columns=["created_ts"]).reset_index()
    out["request_ts"] = request.to_numpy()
    out["found"] = out["event_ts"].notna()
    return out


def write_feature_log(store: Store, rows: pd.DataFrame, path: Path) -> None:
    """Feast writes `rows` as a feature service's logs to a file destination (its feature-logging format)."""
    from feast import FeatureService
    from feast.feature_logging import FeatureServiceLoggingSource, LoggingConfig
    from feast.infra.offline_stores.file_source import FileLoggingDestination

    fs = feast_store.open_store(store.config())
    service = FeatureService(name="fraud_scoring", features=[fs.get_feature_view(GROUP)],
                             logging_config=LoggingConfig(destination=FileLoggingDestination(
                                 path=str(path), partition_by=["__log_date"]), sample_rate=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.apply([service])
        schema = FeatureServiceLoggingSource(service, fs.project).get_schema(fs.registry)
    found = rows["found"].to_numpy()
    cols: dict[str, Any] = {"customer_id": rows["customer_id"].to_numpy()}
    features = [c for c in rows.columns if c not in ("customer_id", "event_ts", "request_ts", "found")]
    for f in features:
        cols[f"{GROUP}__{f}"] = [v if ok else None for v, ok in zip(rows[f].tolist(), found, strict=True)]
        cols[f"{GROUP}__{f}__timestamp"] = [t.to_pydatetime() if ok else None
                                            for t, ok in zip(rows["event_ts"], found, strict=True)]
        cols[f"{GROUP}__{f}__status"] = [1 if ok else 3 for ok in found]  # PRESENT / NOT_FOUND
    cols["__log_timestamp"] = [t.to_pydatetime() for t in rows["request_ts"]]
    cols["__log_date"] = [t.date() for t in rows["request_ts"]]
    cols["__request_id"] = [f"req-{i}" for i in range(len(rows))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.write_logged_features(pa.Table.from_pydict(cols, schema), service)
