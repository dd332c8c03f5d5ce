import numpy as np
import pytest
from scipy import stats as sps

from drift_audit.core import drift
from drift_audit.spark.profile import categorical_summaries, numeric_summaries


def _frames(frames, ref, cur):
    return frames({"x": ref}), frames({"x": cur, "_source": ["online"] * len(cur)})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numeric_matches_scipy_with_ties_nulls(frames, seed):
    rng = np.random.default_rng(seed)
    ref = np.round(rng.normal(0, 1, 700), 1)
    cur = np.round(rng.normal(0.2, 1.3, 300), 1)
    ref_list = [None if i % 17 == 0 else float(v) for i, v in enumerate(ref)]
    cur_list = [float("nan") if i % 23 == 0 else float(v) for i, v in enumerate(cur)]
    r, c = _frames(frames, ref_list, cur_list)
    s = numeric_summaries(r, c, ["x"], ["online"], bins=10)[("x", "online")]
    r_f = np.array([v for v in ref_list if v is not None])
    c_f = np.array([v for v in cur_list if v == v])
    assert s.ks == pytest.approx(sps.ks_2samp(r_f, c_f).statistic, rel=1e-9)
    assert s.wasserstein == pytest.approx(sps.wasserstein_distance(r_f, c_f), rel=1e-9)
    assert s.ref.mean == pytest.approx(r_f.mean(), rel=1e-9)
    assert s.cur.std == pytest.approx(c_f.std(ddof=1), rel=1e-9)
    assert s.ref.nulls == 700 // 17 + 1 and s.cur.nan == 300 // 23 + 1
    assert sum(b.ref for b in s.bins) == len(r_f) and sum(b.cur for b in s.bins) == len(c_f)
    scores = drift.numeric_scores(s)
    assert scores["ks_pvalue"] == pytest.approx(sps.ks_2samp(r_f, c_f, method="asymp").pvalue, rel=1e-6)


def test_categorical_new_and_missing(frames):
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 30 + ["d"] * 25 + [None] * 5
    r, c = _frames(frames, ref, cur)
    s = categorical_summaries(r, c, ["x"], ["online"], top_k=10)[("x", "online")]
    assert dict((k, (a, b)) for k, a, b in s.counts) == {"a": (50, 40), "b": (30, 30), "c": (20, 0), "d": (0, 25)}
    assert (s.new_categories, s.new_rows, s.missing_categories, s.missing_rows) == (1, 25, 1, 20)
    assert s.cur_nulls == 5 and s.new_examples == ("d",)
