"""The small final math against numpy/scipy references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from drift_audit.core import stats


@pytest.mark.parametrize("seed", range(4))
def test_psi_js_linf_against_numpy(seed):
    rng = np.random.default_rng(seed)
    ref, cur = rng.integers(0, 500, 12), rng.integers(0, 500, 12)
    ref[seed] = 0  # an empty bin exercises the 1e-4 floor
    p, q = ref / ref.sum(), cur / cur.sum()
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert stats.psi(ref, cur) == pytest.approx(np.sum((qf - pf) * np.log(qf / pf)), rel=1e-12)
    m = (p + q) / 2
    kl = lambda a: np.sum(np.where(a > 0, a * np.log2(np.where(a > 0, a, 1) / m), 0))  # noqa: E731
    assert stats.js_distance(ref, cur) == pytest.approx(np.sqrt((kl(p) + kl(q)) / 2), rel=1e-9)
    assert stats.linf(ref, cur) == pytest.approx(np.max(np.abs(p - q)), rel=1e-12)
    assert stats.psi(ref, ref) == 0.0 and stats.js_distance(ref, ref) == pytest.approx(0.0, abs=1e-9)


def test_ks_pvalue_matches_scipy_asymptotic():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 900), rng.normal(0.1, 1, 700)
    res = sps.ks_2samp(a, b, method="asymp")
    assert stats.ks_pvalue(res.statistic, 900, 700) == pytest.approx(res.pvalue, rel=1e-9)
    assert stats.ks_pvalue(1.0, 1, 1) == 1.0 and stats.ks_pvalue(0.3, 0, 10) == 1.0


_sample = st.lists(st.one_of(st.sampled_from([0.0, 1.0, -1.0, 1e300, -1e300, 5e-324]),
                             st.floats(-1e9, 1e9, allow_nan=False)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_sample, _sample)
def test_ks_pvalue_property_matches_scipy(a, b):
    """Ties, extremes and tiny samples: the p-value of scipy's own statistic, computed by us. Where scipy has
    none (one value per side) ours is 1.0, no evidence either way (docs/statistics.md)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        res = sps.ks_2samp(a, b, method="asymp")
    expected = 1.0 if np.isnan(res.pvalue) else res.pvalue
    assert stats.ks_pvalue(res.statistic, len(a), len(b)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=2, max_size=30))
def test_chi2_property_matches_scipy_on_dense_tables(pairs):
    """Tables without sparse categories (no merging) against scipy's contingency test."""
    ref = [r for r, _c in pairs]
    cur = [c for _r, c in pairs]
    table = np.array([ref, cur])
    if table.sum(axis=1).min() == 0:
        return
    expected = table.sum(axis=0, keepdims=True) * table.sum(axis=1, keepdims=True) / table.sum()
    if (expected < 5).any():
        return  # merging and degenerate sides are covered by the fixed cases
    p, dof = stats.chi2_pvalue(ref, cur)
    sp = sps.chi2_contingency(table, correction=False)
    assert dof == sp.dof and p == pytest.approx(sp.pvalue, rel=1e-9, abs=1e-300)


def test_chi2_merges_sparse_categories():
    ref, cur = [500, 400, 3, 2, 1], [450, 420, 1, 0, 4]
    p, dof = stats.chi2_pvalue(ref, cur)
    merged = np.array([[500, 400, 6], [450, 420, 5]])
    assert dof == 2 and p == pytest.approx(sps.chi2_contingency(merged, correction=False).pvalue, rel=1e-12)
    assert stats.chi2_pvalue([10, 0], [0, 0]) == (1.0, 0)


def test_benjamini_hochberg_against_definition():
    rng = np.random.default_rng(3)
    p = rng.random(50) ** 3
    q = np.array(stats.benjamini_hochberg(p))
    n = len(p)
    for i in range(n):  # q_i = min over p_j >= p_i of p_j * n / rank_j
        ranks = np.array([np.sum(p <= p[j]) for j in range(n)])
        expected = min(1.0, min(p[j] * n / ranks[j] for j in range(n) if p[j] >= p[i]))
        assert q[i] == pytest.approx(expected, rel=1e-12)
    alpha = 0.05
    assert (q <= alpha).sum() == max([k for k in range(1, n + 1) if np.sort(p)[k - 1] <= k * alpha / n], default=0)
