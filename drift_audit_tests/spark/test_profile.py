"""The Spark engine against scipy/numpy: exact KS, Wasserstein, moments and the documented binning."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from drift_audit.core import drift
from drift_audit.spark.profile import OTHER, categorical_summaries, numeric_summaries

BINS = 10


def _frames(frames, ref, cur):
    return frames({"x": ref}), frames({"x": cur, "_source": ["online"] * len(cur)})


def _frames_many(frames, ref_cols: list[list], cur_cols: list[list]):
    """One feature per column pair; shorter columns are padded with nulls (missing, not compared)."""
    n = max([len(c) for c in ref_cols] + [1])
    m = max([len(c) for c in cur_cols] + [1])
    ref = {f"f{i}": pa.array(c + [None] * (n - len(c)), type=pa.float64()) for i, c in enumerate(ref_cols)}
    cur = {f"f{i}": pa.array(c + [None] * (m - len(c)), type=pa.float64()) for i, c in enumerate(cur_cols)}
    cur["_source"] = pa.array(["online"] * m)
    return frames(ref), frames(cur), [f"f{i}" for i in range(len(ref_cols))]


def _finite(values) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    return arr[np.isfinite(arr)]


def numpy_bins(a: np.ndarray, b: np.ndarray, bins: int) -> list[tuple[int, float, float, int, int]]:
    """The documented binning: v goes to min(B-1, floor(B * #(ref < v) / n_ref))."""
    ra = np.sort(a)
    out = []
    qa = np.minimum(bins - 1, bins * np.searchsorted(ra, a, side="left") // len(a))
    qb = np.minimum(bins - 1, bins * np.searchsorted(ra, b, side="left") // len(a))
    for q in range(bins):
        in_a, in_b = a[qa == q], b[qb == q]
        if len(in_a) or len(in_b):
            both = np.concatenate([in_a, in_b])
            out.append((q, float(both.min()), float(both.max()), len(in_a), len(in_b)))
    return out


def numpy_psi_js(ref_counts, cur_counts) -> tuple[float, float]:
    p = np.asarray(ref_counts, float) / np.sum(ref_counts)
    q = np.asarray(cur_counts, float) / np.sum(cur_counts)
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    psi = float(np.sum((qf - pf) * np.log(qf / pf)))
    mid = (p + q) / 2
    kl = lambda x: float(np.sum(np.where(x > 0, x * np.log2(np.where(x > 0, x, 1) / np.where(mid > 0, mid, 1)), 0)))  # noqa: E731
    return psi, math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def check_against_numpy(summary, ref_values, cur_values) -> None:
    a, b = _finite(ref_values), _finite(cur_values)
    scale = max([1.0, *np.abs(a).tolist(), *np.abs(b).tolist()])
    assert summary.ref.count == len(a) and summary.cur.count == len(b)
    if len(a) and len(b):
        with np.errstate(divide="ignore", invalid="ignore"):  # scipy's p-value of one value per side divides by 0
            ks = sps.ks_2samp(a, b, method="asymp").statistic
        assert summary.ks == pytest.approx(ks, rel=1e-9, abs=1e-15)
        assert summary.wasserstein == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9, abs=1e-12 * scale)
        assert [(x.index, x.lo, x.hi, x.ref, x.cur) for x in summary.bins] == numpy_bins(a, b, BINS)
        scores = drift.numeric_scores(summary)
        psi, js = numpy_psi_js([x.ref for x in summary.bins], [x.cur for x in summary.bins])
        assert scores["psi"] == pytest.approx(psi, rel=1e-9, abs=1e-12)
        assert scores["js_distance"] == pytest.approx(js, rel=1e-9, abs=1e-9)
    for side, arr in ((summary.ref, a), (summary.cur, b)):
        if len(arr):
            assert side.mean == pytest.approx(arr.mean(), rel=1e-9, abs=1e-12 * scale)
            assert side.min == arr.min() and side.max == arr.max()
        if len(arr) > 1:
            assert side.std == pytest.approx(arr.std(ddof=1), rel=1e-9, abs=1e-12 * scale)
        else:
            assert side.std is None
    distinct = np.unique(np.concatenate([a, b]))
    if 0 < len(distinct) <= 64:
        assert [v for v, _r, _c in summary.exact] == distinct.tolist()
        assert sum(r for _v, r, _c in summary.exact) == len(a) and sum(c for _v, _r, c in summary.exact) == len(b)
    else:
        assert summary.exact == ()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numeric_matches_scipy_with_ties_nulls(frames, seed):
    rng = np.random.default_rng(seed)
    ref = np.round(rng.normal(0, 1, 700), 1)
    cur = np.round(rng.normal(0.2, 1.3, 300), 1)
    ref_list = [None if i % 17 == 0 else float(v) for i, v in enumerate(ref)]
    cur_list = [float("nan") if i % 23 == 0 else float(v) for i, v in enumerate(cur)]
    r, c = _frames(frames, ref_list, cur_list)
    s = numeric_summaries(r, c, ["x"], ["online"], bins=BINS)[("x", "online")]
    check_against_numpy(s, ref_list, cur_list)
    assert s.ref.nulls == 700 // 17 + 1 and s.cur.nan == 300 // 23 + 1
    scores = drift.numeric_scores(s)
    r_f, c_f = _finite(ref_list), _finite(cur_list)
    assert scores["ks_pvalue"] == pytest.approx(sps.ks_2samp(r_f, c_f, method="asymp").pvalue, rel=1e-6)


def test_numeric_many_shapes_in_one_call(frames):
    """Continuous, skewed, heavy-tailed, offset, tied, constant, 1 and 2 values, extremes: one engine call."""
    rng = np.random.default_rng(11)
    cases = [
        (rng.normal(0, 1, 3000), rng.normal(0, 1, 2000)),
        (rng.lognormal(0, 2, 3000), rng.lognormal(0.1, 2, 2500)),
        (rng.standard_cauchy(3000), rng.standard_cauchy(1000)),
        (1e6 + rng.normal(0, 1e-3, 2000), 1e6 + rng.normal(0, 1e-3, 2000)),
        (rng.integers(0, 5, 3000).astype(float), rng.integers(0, 6, 1500).astype(float)),
        (np.full(50, 3.5), np.full(40, 3.5)),
        (np.array([1.0]), np.array([2.0])),
        (np.array([1.0, 1.0]), np.array([0.5, 1.0])),
        (np.concatenate([rng.normal(0, 1, 500), [1e100, -1e100]]), rng.normal(0, 1, 400)),
        (np.concatenate([rng.random(300) * 1e-300, [0.0, -0.0]]), rng.random(200) * 1e-300),
        (np.concatenate([rng.random(1000), [1e9]]), np.concatenate([rng.random(800), [1e9, 2e9]])),
    ]
    ref_cols = [[float(v) for v in a] for a, _b in cases]
    cur_cols = [[float(v) for v in b] for _a, b in cases]
    ref_cols[0][::13] = [None] * len(ref_cols[0][::13])
    cur_cols[0][::7] = [math.nan] * len(cur_cols[0][::7])
    cur_cols[1][::11] = [math.inf] * len(cur_cols[1][::11])
    ref_cols[1][::19] = [-math.inf] * len(ref_cols[1][::19])
    r, c, names = _frames_many(frames, ref_cols, cur_cols)
    out = numeric_summaries(r, c, names, ["online"], bins=BINS)
    for name, ref_values, cur_values in zip(names, ref_cols, cur_cols, strict=True):
        check_against_numpy(out[(name, "online")], ref_values, cur_values)
    assert out[("f1", "online")].cur.pos_inf == len(cur_cols[1][::11])
    assert out[("f1", "online")].ref.neg_inf == len(ref_cols[1][::19])


_pool = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, 1e-300, 3.0, 1e100, -1e100, 7.25])
_value = st.one_of(_pool, _pool, st.floats(-1e6, 1e6, allow_nan=False), st.none(), st.just(math.nan),
                   st.just(math.inf), st.just(-math.inf),
                   st.integers(-20, 20).map(float))
_column = st.lists(_value, min_size=0, max_size=60)


@settings(max_examples=15, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(_column, _column), min_size=1, max_size=8))
def test_property_matches_scipy(frames, pairs):
    """Random columns with ties, nulls, NaN, +-inf, extremes and tiny sizes, several features per call."""
    ref_cols = [list(a) for a, _b in pairs]
    cur_cols = [list(b) for _a, b in pairs]
    r, c, names = _frames_many(frames, ref_cols, cur_cols)
    out = numeric_summaries(r, c, names, ["online"], bins=BINS)
    for name, ref_values, cur_values in zip(names, ref_cols, cur_cols, strict=True):
        s = out[(name, "online")]
        check_against_numpy(s, ref_values, cur_values)
        assert s.ref.rows == max([1, *(len(x) for x in ref_cols)]) and s.cur.nan == sum(
            1 for v in cur_values if v is not None and math.isnan(v))


def test_two_sides_are_scored_independently(frames):
    rng = np.random.default_rng(5)
    ref = rng.normal(0, 1, 2000)
    east, west = rng.normal(0, 1, 800), rng.normal(0.5, 1, 600)
    r = frames({"x": ref})
    c = frames({"x": np.concatenate([east, west]), "_source": ["east"] * 800 + ["west"] * 600})
    out = numeric_summaries(r, c, ["x"], ["east", "west"], bins=BINS)
    for side, arr in (("east", east), ("west", west)):
        s = out[("x", side)]
        assert s.ks == pytest.approx(sps.ks_2samp(ref, arr).statistic, rel=1e-9)
        assert s.wasserstein == pytest.approx(sps.wasserstein_distance(ref, arr), rel=1e-9)
        assert [(b.index, b.ref, b.cur) for b in s.bins] == [(q, x, y) for q, _lo, _hi, x, y in
                                                           numpy_bins(ref, arr, BINS)]


def test_categorical_new_and_missing(frames):
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 30 + ["d"] * 25 + [None] * 5
    r, c = _frames(frames, ref, cur)
    s = categorical_summaries(r, c, ["x"], ["online"], top_k=10)[("x", "online")]
    assert dict((k, (a, b)) for k, a, b in s.counts) == {"a": (50, 40), "b": (30, 30), "c": (20, 0), "d": (0, 25)}
    assert (s.new_categories, s.new_rows, s.missing_categories, s.missing_rows) == (1, 25, 1, 20)
    assert s.cur_nulls == 5 and s.new_examples == ("d",)


def test_categorical_100k_categories_top_k_and_other(frames):
    """100k categories stay in Spark: k named categories plus __other__ come back, totals exact."""
    rng = np.random.default_rng(3)
    n = 200_000
    ref_codes = np.minimum(rng.zipf(1.3, n), 100_000) - 1
    cur_codes = np.minimum(rng.zipf(1.3, n // 2), 100_000) - 1
    ref_codes[:100_000] = np.arange(100_000)  # every category present in the reference
    cur_codes[:50] = 100_000 + np.arange(50)  # 50 new ones
    names = pa.array([f"c{i:06d}" for i in range(100_050)])
    r = frames({"x": pa.DictionaryArray.from_arrays(pa.array(ref_codes, pa.int32()), names)})
    c = frames({"x": pa.DictionaryArray.from_arrays(pa.array(cur_codes, pa.int32()), names),
                "_source": ["online"] * (n // 2)})
    s = categorical_summaries(r, c, ["x"], ["online"], top_k=25)[("x", "online")]
    named = [t for t in s.counts if t[0] != OTHER]
    assert len(s.counts) <= 25 + 2 * 5 + 1 and s.counts[-1][0] == OTHER
    assert sum(t[1] for t in s.counts) == n and sum(t[2] for t in s.counts) == n // 2
    ref_top = np.bincount(ref_codes, minlength=100_050)
    cur_top = np.bincount(cur_codes, minlength=100_050)
    total = ref_top + cur_top
    expected_top = sorted(range(100_050), key=lambda i: (-total[i], f"c{i:06d}"))[:25]
    assert [t[0] for t in named[:25]] == [f"c{i:06d}" for i in expected_top]
    assert s.ref_categories == 100_000 and s.new_categories == 50
    assert s.cur_categories == int((cur_top > 0).sum())
    assert s.missing_categories == int(((ref_top > 0) & (cur_top == 0)).sum())
    assert len(s.new_examples) == 5
