"""Demo serving (online) pipeline: raw events -> the values written to the online store.

Deployed as serving v2.3 on the demo's defect day. It should compute exactly what `batch.py` computes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def txn_amount_usd(amount_cents: pd.Series) -> pd.Series:
    """Last transaction amount in dollars."""
    return amount_cents.astype("float64")


def txn_count_7d(daily_counts: pd.DataFrame) -> pd.Series:
    """Transactions over the trailing window."""
    return daily_counts.iloc[:, -1:].sum(axis=1).astype("int64")


def last_txn_hour(last_txn_at: pd.Series) -> pd.Series:
    """Hour of day of the last transaction."""
    return last_txn_at.dt.tz_convert("America/New_York").dt.hour.astype("int32")


def email_token(email: pd.Series) -> pd.Series:
    """E-mail address as served to the scoring service."""
    return email.astype(str)


def days_since_last_login(days: pd.Series) -> pd.Series:
    return days.fillna(0).astype("int64")


def loyalty_tier(spend_rank: pd.Series) -> pd.Series:
    return pd.cut(
        spend_rank, [-np.inf, 0.6, 0.9, 0.97, np.inf], labels=["bronze", "silver", "gold", "platinum"]
    ).astype(str)
