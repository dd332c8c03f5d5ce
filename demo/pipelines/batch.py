"""Demo batch (offline) pipeline: raw daily events -> training features. The reference behaviour."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def txn_amount_usd(amount_cents: pd.Series) -> pd.Series:
    """Last transaction amount, converted from the ledger's cents to dollars."""
    return amount_cents.astype("float64") / 100.0


def txn_count_7d(daily_counts: pd.DataFrame) -> pd.Series:
    """Transactions over the trailing 7 days (columns are days, oldest first)."""
    return daily_counts.iloc[:, -7:].sum(axis=1).astype("int64")


def last_txn_hour(last_txn_at: pd.Series) -> pd.Series:
    """Hour of day of the last transaction, in UTC."""
    return last_txn_at.dt.tz_convert("UTC").dt.hour.astype("int32")


def email_token(email: pd.Series) -> pd.Series:
    """sha256 tokenization of the e-mail address."""
    return email.map(lambda e: hashlib.sha256(e.encode()).hexdigest())


def days_since_last_login(days: pd.Series) -> pd.Series:
    """Missing (null) when the customer never logged in."""
    return days.astype("Int64")


def loyalty_tier(spend_rank: pd.Series) -> pd.Series:
    return pd.cut(spend_rank, [-np.inf, 0.6, 0.9, np.inf], labels=["bronze", "silver", "gold"]).astype(str)
