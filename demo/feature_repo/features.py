"""Feast definitions of the demo feature store.

`definitions(data_dir)` builds them for a data folder; the module-level objects let `feast apply` work
from this folder with the default layout (`../data`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Bool, Float64, Int32, Int64, String


def definitions(data_dir: Path) -> list[object]:
    offline = Path(data_dir) / "offline"
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    merchant = Entity(name="merchant", join_keys=["merchant_id"], value_type=ValueType.INT64)

    def source(group: str) -> FileSource:
        return FileSource(
            name=f"{group}_source",
            path=str(offline / group),
            timestamp_field="event_ts",
            created_timestamp_column="created_ts",
        )

    transactions = FeatureView(
        name="transactions",
        entities=[customer],
        ttl=timedelta(hours=48),
        schema=[
            Field(name="txn_amount_usd", dtype=Float64),
            Field(name="txn_count_7d", dtype=Int64),
            Field(name="last_txn_hour", dtype=Int32),
            Field(name="avg_txn_amount_30d", dtype=Float64),
            Field(name="merchant_category", dtype=String),
            Field(name="chargeback_rate_90d", dtype=Float64),
        ],
        source=source("transactions"),
        tags={"owner": "payments-features@example.com", "serving_code": "demo/pipelines/serving.py"},
    )
    customer_profile = FeatureView(
        name="customer_profile",
        entities=[customer],
        ttl=timedelta(hours=72),
        schema=[
            Field(name="age", dtype=Int32),
            Field(name="country", dtype=String),
            Field(name="tenure_days", dtype=Int64),
            Field(name="loyalty_tier", dtype=String),
            Field(name="email", dtype=String),
            Field(name="credit_score", dtype=Float64),
        ],
        source=source("customer_profile"),
        tags={"owner": "crm-data@example.com"},
    )
    engagement = FeatureView(
        name="engagement",
        entities=[customer],
        ttl=timedelta(hours=48),
        # preferred_device was dropped from the serving schema in serving v2.3.
        schema=[
            Field(name="sessions_7d", dtype=Int64),
            Field(name="days_since_last_login", dtype=Int64),
            Field(name="push_opt_in", dtype=Bool),
            Field(name="avg_session_minutes", dtype=Float64),
        ],
        source=source("engagement"),
        tags={"owner": "growth-analytics@example.com"},
    )
    merchant_risk = FeatureView(
        name="merchant_risk",
        entities=[merchant],
        ttl=timedelta(hours=96),
        schema=[
            Field(name="merchant_fraud_rate_30d", dtype=Float64),
            Field(name="merchant_txn_volume_1d", dtype=Float64),
            Field(name="merchant_age_days", dtype=Int64),
        ],
        source=source("merchant_risk"),
        tags={"owner": "risk-platform@example.com"},
    )
    return [customer, merchant, transactions, customer_profile, engagement, merchant_risk]


_DATA = Path(os.environ.get("DRIFT_AUDIT_DEMO_DATA", Path(__file__).resolve().parent.parent / "data"))
(customer, merchant, transactions, customer_profile, engagement, merchant_risk) = definitions(_DATA)
