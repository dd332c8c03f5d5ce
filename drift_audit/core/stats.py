"""The small final math shared by every path: scores from bin counts and ECDF summaries.

Conventions (docs/statistics.md):
- PSI and Jensen-Shannon use the same bins; empty-bin shares are floored at PSI_EPSILON before the log.
- Jensen-Shannon is the distance (square root of the divergence) in base 2, in [0, 1].
- The KS p-value is the asymptotic two-sided one scipy's ks_2samp uses: kstwo.sf(D, round(n*m/(n+m))).
- Chi-square merges categories whose expected count is below 5 into one, so the test is valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

PSI_EPSILON = 1e-4


def shares(counts: Sequence[float]) -> np.ndarray:
    arr = np.asarray(counts, dtype=float)
    total = arr.sum()
    return arr / total if total > 0 else np.zeros_like(arr)


def psi(ref_counts: Sequence[float], cur_counts: Sequence[float]) -> float:
    """Population stability index: sum (q - p) ln(q / p), shares floored at PSI_EPSILON."""
    p = np.maximum(shares(ref_counts), PSI_EPSILON)
    q = np.maximum(shares(cur_counts), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(ref_counts: Sequence[float], cur_counts: Sequence[float]) -> float:
    p, q = shares(ref_counts), shares(cur_counts)
    if p.sum() == 0 or q.sum() == 0:
        return 1.0
    return float(jensenshannon(p, q, base=2))


def linf(ref_counts: Sequence[float], cur_counts: Sequence[float]) -> float:
    p, q = shares(ref_counts), shares(cur_counts)
    return float(np.max(np.abs(p - q))) if len(p) else 0.0


def ks_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    if n_ref == 0 or n_cur == 0:
        return 1.0
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    en = np.round(m * n / (m + n))
    if en < 1:  # one value per side: no evidence either way
        return 1.0
    return float(min(1.0, max(0.0, sps.kstwo.sf(d, en))))


def chi2_pvalue(ref_counts: Sequence[int], cur_counts: Sequence[int]) -> tuple[float, int]:
    """(p-value, degrees of freedom) of the 2 x k homogeneity test after merging sparse categories."""
    ref = np.asarray(ref_counts, dtype=float)
    cur = np.asarray(cur_counts, dtype=float)
    n_ref, n_cur = ref.sum(), cur.sum()
    if n_ref == 0 or n_cur == 0:
        return 1.0, 0
    total = ref + cur
    expected_min = np.minimum(total * n_ref, total * n_cur) / (n_ref + n_cur)
    sparse = expected_min < 5
    table = [ref[~sparse], cur[~sparse]]
    if sparse.any():
        table = [np.append(table[0], ref[sparse].sum()), np.append(table[1], cur[sparse].sum())]
    matrix = np.vstack(table)
    matrix = matrix[:, matrix.sum(axis=0) > 0]
    if matrix.shape[1] < 2:
        return 1.0, 0
    _chi2, p, dof, _ = sps.chi2_contingency(matrix, correction=False)
    return float(p), int(dof)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Adjusted p-values (q-values) controlling the false discovery rate across one group's features."""
    p = np.asarray(pvalues, dtype=float)
    n = len(p)
    if n == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return [float(x) for x in out]


def standardized_mean_difference(mean_ref: float, mean_cur: float, std_ref: float, std_cur: float) -> float | None:
    pooled = math.sqrt((std_ref**2 + std_cur**2) / 2)
    return (mean_cur - mean_ref) / pooled if pooled > 0 else None


def safe_ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den
