"""Small per-feature summaries that Spark computes and the statistics are derived from.

Everything here is bounded: one object per (feature, side), at most `bins` + a few exact rows each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Moments:
    rows: int  # all rows, nulls included
    nulls: int  # null or NaN (NaN is counted as missing)
    nan: int
    pos_inf: int
    neg_inf: int
    count: int  # finite values
    mean: float | None
    std: float | None  # sample std, ddof=1
    min: float | None
    max: float | None

    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class Bin:
    index: int
    lo: float  # smallest value in the bin (either side)
    hi: float  # largest value in the bin (either side)
    ref: int
    cur: int


@dataclass(frozen=True)
class NumericSummary:
    """Reference vs one current side, from the exact ECDF of their finite values."""

    feature: str
    side: str
    ref: Moments
    cur: Moments
    ks: float  # sup |F_ref - F_cur|, exact
    wasserstein: float  # integral |F_ref - F_cur|, exact
    bins: tuple[Bin, ...]  # reference-quantile bins (docs/statistics.md)
    exact: tuple[tuple[float, int, int], ...] = ()  # (value, ref, cur) for low-cardinality features


@dataclass(frozen=True)
class CategoricalSummary:
    feature: str
    side: str
    ref_rows: int
    cur_rows: int
    ref_nulls: int
    cur_nulls: int
    counts: tuple[tuple[str, int, int], ...]  # (category, ref, cur), top-k by total, then "__other__"
    ref_categories: int
    cur_categories: int
    new_categories: int  # in current, not in reference
    new_rows: int
    missing_categories: int  # in reference, not in current
    missing_rows: int
    new_examples: tuple[str, ...] = ()
    missing_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkewSummary:
    """Row-level parity over aligned (entity, time) pairs of one online side."""

    feature: str
    side: str
    values: int  # online values of the side
    aligned: int  # with an offline row as of the value's time
    both_null: int
    offline_null_online_value: int
    offline_value_online_null: int
    compared: int  # both non-null
    matches: int  # equal within tolerance (both null counts as a match)
    beyond_tolerance: int
    abs_diff_sum: float
    sentinels: tuple[tuple[str, int], ...] = ()  # online values where offline is null, most frequent first
    log_ratio_mean: float | None = None  # mean of log(online/offline) over same-sign nonzero pairs
    log_ratio_std: float | None = None
    ratio_pairs: int = 0
    circular_shifts: tuple[tuple[int, int], ...] = ()  # (shift, pairs) of (online - offline) mod period
    factor_shares: tuple[tuple[float, float], ...] = ()  # (factor, share of pairs with online/offline ~ factor)
    online_mean: float | None = None  # over compared numeric pairs
    offline_mean: float | None = None

    @property
    def match_rate(self) -> float | None:
        return self.matches / self.aligned if self.aligned else None

    @property
    def mean_abs_diff(self) -> float | None:
        return self.abs_diff_sum / self.compared if self.compared else None
