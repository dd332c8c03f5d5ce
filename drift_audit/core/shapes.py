"""Per-side shape summaries for the distribution-only cause checks (no aligned pairs needed).

Spark computes them (spark/shapes.py) on the offline rows of the partition day and on each online
source: the same day and the same sampled entities, so population drift, which moves both, cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

QUANTILE_GRID = tuple(k / 20 for k in range(1, 20))  # 0.05 ... 0.95
TIME_BINS_PER_HOUR = 4  # time-of-day histograms of timestamps at 15-minute resolution


@dataclass(frozen=True)
class Shape:
    """One non-PII feature on one side."""

    feature: str
    side: str
    rows: int
    nulls: int  # null or NaN
    count: int  # non-null numeric values (0 for categorical features)
    mean: float | None
    quantiles: tuple[tuple[float, float], ...] = ()  # (p, exact lower quantile) over QUANTILE_GRID
    cyclic: tuple[tuple[int, int], ...] = ()  # (round(value) mod period, count) for hour/day features
    sentinels: tuple[tuple[str, int], ...] = ()  # (candidate default value, rows holding it)

    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    def sentinel_rate(self, value: str) -> float:
        return dict(self.sentinels).get(value, 0) / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class TimeOfDay:
    """Time-of-day histogram of one side's timestamps (offline: each entity's newest event of the day;
    online: the served value's timestamp)."""

    side: str
    rows: int
    bins: tuple[int, ...]  # 24 * TIME_BINS_PER_HOUR counts
