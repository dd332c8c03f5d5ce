"""Build the demo feature store: offline history, serving logs, the Feast online store, MLflow models.

Raw events are generated once (seeded); the offline side runs them through the batch pipeline and the
online side through the serving pipeline (`demo/pipelines/serving.py`), which from `defect_start` on
carries the injected defects. Everything is deterministic for a given spec.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from drift_audit.adapters import feast_store, mlflow_registry
from drift_audit.config import Config

UTC = UTC


@dataclass(frozen=True)
class DemoSpec:
    start: date = date(2026, 10, 1)
    audit_day: date = date(2026, 10, 21)
    defect_start: date = date(2026, 10, 19)
    drift_start: date = date(2026, 10, 20)
    stale_day: date = date(2026, 10, 18)  # merchant_risk online materialization stopped after this day
    log_days: int = 7
    customers: int = 4000
    merchants: int = 800
    seed: int = 20261021

    @property
    def days(self) -> list[date]:
        n = (self.audit_day - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(n)]


# The defects the demo injects: (feature_group, feature, finding kind). The e2e test checks each is found.
INJECTED = (
    ("transactions", "txn_amount_usd", "unit_mismatch"),
    ("transactions", "last_txn_hour", "timezone_mismatch"),
    ("transactions", "txn_count_7d", "window_mismatch"),
    ("customer_profile", "loyalty_tier", "allowed_value_drift"),
    ("customer_profile", "email", "pii_untokenized"),
    ("customer_profile", "credit_score", "type_mismatch"),
    ("engagement", "days_since_last_login", "null_handling_mismatch"),
    ("engagement", "preferred_device", "missing_online"),
    ("engagement", "sessions_7d", "population_drift"),
    ("merchant_risk", "*", "stale_online_values"),
)
CLEAN = (
    ("transactions", "avg_txn_amount_30d"), ("transactions", "merchant_category"),
    ("transactions", "chargeback_rate_90d"), ("customer_profile", "age"), ("customer_profile", "country"),
    ("customer_profile", "tenure_days"), ("engagement", "push_opt_in"),
    ("engagement", "avg_session_minutes"), ("merchant_risk", "merchant_fraud_rate_30d"),
    ("merchant_risk", "merchant_txn_volume_1d"), ("merchant_risk", "merchant_age_days"),
)
PII_VALUES_SAMPLE = ("customer17@example.com", "customer2024@example.com")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ts(day: date, seconds: np.ndarray) -> pd.Series:
    base = pd.Timestamp(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return pd.Series(base + pd.to_timedelta(seconds, unit="s"))


class _Raw:
    """Seeded raw events; each group's frame for a day is built from these."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        n, m = spec.customers, spec.merchants
        self.cid = np.arange(1, n + 1, dtype="int64")
        self.mid = np.arange(1, m + 1, dtype="int64")
        self.rate = rng.gamma(2.0, 1.5, n)
        self.spend_z = rng.normal(0, 1, n)
        history = len(spec.days) + 6
        self.daily_counts = rng.poisson(self.rate[:, None], (n, history))
        self.age = np.clip(rng.normal(42, 13, n), 18, 90).astype("int32")
        self.country = rng.choice(["US", "CA", "GB", "DE", "FR", "BR", "IN", "JP"], n,
                                  p=[.35, .1, .12, .1, .08, .1, .1, .05])
        self.tenure0 = rng.exponential(900, n).astype("int64")
        self.spend_rank = rng.uniform(0, 1, n)
        self.credit = np.round(np.clip(rng.normal(680, 60, n), 300, 850)).astype("float64")
        self.session_rate = rng.gamma(3.0, 0.8, n)
        self.never_logged_in = rng.uniform(0, 1, n) < 0.2
        self.device = rng.choice(["ios", "android", "web"], n, p=[.45, .4, .15])
        self.push = rng.uniform(0, 1, n) < 0.4
        self.session_minutes = rng.gamma(4.0, 3.0, n)
        self.m_fraud = rng.beta(2, 200, m)
        self.m_volume = rng.lognormal(9, 1, m)
        self.m_age0 = rng.exponential(1500, m).astype("int64")
        self.rng = rng

    def day_rng(self, day: date, group: str) -> np.random.Generator:
        return np.random.default_rng([self.spec.seed, day.toordinal(), sum(map(ord, group))])

    def event_times(self, day: date, keys: np.ndarray) -> tuple[pd.Series, pd.Series]:
        offset = 3600 + (keys * 37) % 3600
        event = _ts(day, offset)
        return event, event + pd.Timedelta(minutes=15)


def _frames(raw: _Raw, day: date, batch: ModuleType, serving: ModuleType) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """{group: (offline frame, online frame)} for one day."""
    spec = raw.spec
    online_code = serving if day >= spec.defect_start else batch
    di = (day - spec.start).days
    out = {}

    rng = raw.day_rng(day, "transactions")
    n = spec.customers
    hour_p = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 12, 10, 8, 7, 7, 8, 10, 12, 9, 6, 3, 2], float)
    hours = rng.choice(24, n, p=hour_p / hour_p.sum())
    last_at = _ts(day, hours * 3600 + rng.integers(0, 3600, n))
    cents = pd.Series(np.round(np.exp(np.log(4500) + 0.3 * raw.spend_z + rng.normal(0, 0.7, n))).astype("int64"))
    counts = pd.DataFrame(raw.daily_counts[:, di:di + 7])
    event, created = raw.event_times(day, raw.cid)
    common = {
        "avg_txn_amount_30d": np.round(np.exp(np.log(45) + 0.3 * raw.spend_z) * (1 + rng.normal(0, .05, n)), 4),
        "merchant_category": rng.choice(["grocery", "travel", "electronics", "dining", "fuel", "other"], n,
                                        p=[.3, .08, .12, .25, .15, .1]),
        "chargeback_rate_90d": np.round(rng.beta(1, 60, n), 6),
    }

    def txn(code: ModuleType) -> pd.DataFrame:
        return pd.DataFrame({
            "customer_id": raw.cid, "event_ts": event, "created_ts": created,
            "txn_amount_usd": code.txn_amount_usd(cents), "txn_count_7d": code.txn_count_7d(counts),
            "last_txn_hour": code.last_txn_hour(last_at), **common})

    out["transactions"] = (txn(batch), txn(online_code))

    rng = raw.day_rng(day, "customer_profile")
    rank = pd.Series(np.clip(raw.spend_rank + rng.normal(0, 0.01, n), 0, 1))
    emails = pd.Series([f"customer{c}@example.com" for c in raw.cid])

    def profile(code: ModuleType) -> pd.DataFrame:
        return pd.DataFrame({
            "customer_id": raw.cid, "event_ts": event, "created_ts": created, "age": raw.age,
            "country": raw.country, "tenure_days": raw.tenure0 + di, "loyalty_tier": code.loyalty_tier(rank),
            "email": code.email_token(emails), "credit_score": raw.credit})

    out["customer_profile"] = (profile(batch), profile(online_code))

    rng = raw.day_rng(day, "engagement")
    lift = 1.6 if day >= spec.drift_start else 1.0
    login = pd.Series(np.where(raw.never_logged_in, np.nan, rng.geometric(0.3, n) - 1))

    def engagement(code: ModuleType) -> pd.DataFrame:
        return pd.DataFrame({
            "customer_id": raw.cid, "event_ts": event, "created_ts": created,
            "sessions_7d": rng_sessions, "days_since_last_login": code.days_since_last_login(login),
            "preferred_device": raw.device, "push_opt_in": raw.push,
            "avg_session_minutes": np.round(raw.session_minutes * (1 + rng_minutes), 3)})

    rng_sessions = rng.poisson(7 * raw.session_rate * lift).astype("int64")
    rng_minutes = rng.normal(0, 0.05, n)
    out["engagement"] = (engagement(batch), engagement(online_code))

    rng = raw.day_rng(day, "merchant_risk")
    m = spec.merchants
    m_event, m_created = raw.event_times(day, raw.mid)
    merchant = pd.DataFrame({
        "merchant_id": raw.mid, "event_ts": m_event, "created_ts": m_created,
        "merchant_fraud_rate_30d": np.round(raw.m_fraud * (1 + rng.normal(0, .05, m)), 6),
        "merchant_txn_volume_1d": np.round(raw.m_volume * rng.lognormal(0, .2, m), 2),
        "merchant_age_days": raw.m_age0 + di})
    out["merchant_risk"] = (merchant, merchant.copy())
    return out


def _write_parquet(df: pd.DataFrame, path: Path, row_groups: int = 4) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, row_group_size=max(1, -(-len(df) // row_groups)), coerce_timestamps="us",
                   allow_truncated_timestamps=True)


def build_demo(cfg: Config, spec: DemoSpec = DemoSpec(), data_dir: Path | None = None) -> dict[str, object]:
    """Write the whole demo store under `data_dir` (default: beside the configured offline paths)."""
    data = data_dir or cfg.path(cfg.groups["transactions"].offline.path).parent.parent
    for sub in ("offline", "serving_logs", "feast", "mlflow"):
        shutil.rmtree(data / sub, ignore_errors=True)
    group_cfg = cfg.groups["transactions"]
    batch = _load(cfg.path(group_cfg.transformations["offline"]), "demo_batch")
    serving = _load(cfg.path(group_cfg.transformations["online"]), "demo_serving")
    raw = _Raw(spec)
    store = feast_store.open_store(cfg)
    objects = feast_store.load_definitions(cfg, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.apply(objects)
    schemas = {g: feast_store.feature_view_info(store, g).schema for g in cfg.groups}
    log_from = spec.audit_day - timedelta(days=spec.log_days - 1)
    frames_by_day = {}
    for day in spec.days:
        frames = _frames(raw, day, batch, serving)
        frames_by_day[day] = frames
        for group, (offline, _online) in frames.items():
            _write_parquet(offline, data / "offline" / group / f"date={day.isoformat()}" / "part-00000.parquet")
        if day >= log_from:
            for group, (_offline, online) in frames.items():
                if group == "merchant_risk" and day > spec.stale_day:
                    online = frames_by_day[spec.stale_day][group][1]
                _write_log(online, group, day, schemas[group], raw,
                           data / "serving_logs" / group / f"date={day.isoformat()}" / "part-00000.parquet")
    for group in cfg.groups:
        day = spec.stale_day if group == "merchant_risk" else spec.audit_day
        online = frames_by_day[day][group][1]
        keep = [c for c in online.columns if c in schemas[group] or c in ("customer_id", "merchant_id", "event_ts", "created_ts")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store.write_to_online_store(group, online[keep])
    models = _register_models(cfg, spec)
    return {"data_dir": str(data), "days": len(spec.days), "models": models}


def _write_log(online: pd.DataFrame, group: str, day: date, schema: dict[str, str], raw: _Raw, path: Path) -> None:
    """Serving log of one day: 70% of entities requested once, with what was served and when."""
    rng = raw.day_rng(day, "log-" + group)
    key = "merchant_id" if group == "merchant_risk" else "customer_id"
    served = online[rng.uniform(0, 1, len(online)) < 0.7]
    request = _ts(day, rng.integers(3 * 3600, 24 * 3600 - 1, len(served)))
    log = pd.DataFrame({key: served[key].to_numpy(), "request_ts": request.to_numpy(),
                        "event_ts": served["event_ts"].to_numpy()})
    for col in schema:
        log[col] = served[col].to_numpy()
    log["request_ts"] = log["request_ts"].dt.tz_localize(UTC) if log["request_ts"].dt.tz is None else log["request_ts"]
    _write_parquet(log, path, row_groups=2)


def _register_models(cfg: Config, spec: DemoSpec) -> list[str]:
    uri = mlflow_registry.resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir))
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mc = mlflow_registry.client(uri)
    artifacts = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
    exp_id = mc.create_experiment("drift_audit_demo_monitoring", artifact_location=artifacts)
    models = {
        "fraud_detector": ("transactions.*,merchant_risk.merchant_fraud_rate_30d,merchant_risk.merchant_txn_volume_1d",
                           "auc", 0.92, 0.86, 1, "fraud-ml-lead@example.com"),
        "churn_model": ("customer_profile.*,engagement.sessions_7d,engagement.days_since_last_login,"
                        "engagement.push_opt_in", "auc", 0.81, 0.77, 2, "crm-ml-lead@example.com"),
        "recommender": ("engagement.sessions_7d,engagement.avg_session_minutes,engagement.preferred_device",
                        "ndcg_at_10", 0.41, 0.41, 3, "reco-ml-lead@example.com"),
    }
    rng = np.random.default_rng(spec.seed + 1)
    for name, (features, metric, before, after, tier, owner) in models.items():
        run = mc.create_run(exp_id, run_name=f"{name}-monitoring")
        for i, day in enumerate(spec.days):
            value = (after if day >= spec.defect_start else before) + rng.normal(0, 0.002)
            ts = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
            mc.log_metric(run.info.run_id, metric, round(value, 5), timestamp=ts, step=i)
        mc.set_terminated(run.info.run_id)
        mc.create_registered_model(name, tags={
            mlflow_registry.TAG_FEATURES: features, mlflow_registry.TAG_METRIC: metric,
            mlflow_registry.TAG_TIER: str(tier), mlflow_registry.TAG_OWNER: owner})
        mc.create_model_version(name, source=f"{artifacts}/{name}", run_id=run.info.run_id)
    return sorted(models)
