"""Known shifts are flagged and identical distributions are not, through the engine and the verdict."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from drift_audit.core import drift
from drift_audit.core.tiers import thresholds
from drift_audit.spark.profile import categorical_summaries, numeric_summaries

IDENTICAL = 40


def test_known_shifts_flagged_identical_not(frames):
    rng = np.random.default_rng(2024)
    n, m = 50_000, 20_000
    hour_p = np.exp(-0.5 * ((np.arange(24) - 14) / 4.0) ** 2)
    hour_p /= hour_p.sum()
    ref = {
        "mean_shift": rng.normal(0, 1, n), "variance_shift": rng.normal(0, 1, n),
        "scale_x100": rng.lognormal(3, 0.4, n), "hour_shift": rng.choice(24, n, p=hour_p).astype(float),
        "country": rng.choice(["DE", "FR", "US"], n, p=[0.3, 0.3, 0.4]).tolist(),
        "stable_country": rng.choice(["DE", "FR", "US"], n, p=[0.3, 0.3, 0.4]).tolist(),
    }
    cur = {
        "mean_shift": rng.normal(0.3, 1, m), "variance_shift": rng.normal(0, 2, m),
        "scale_x100": rng.lognormal(3, 0.4, m) * 100,
        "hour_shift": ((rng.choice(24, m, p=hour_p) + 5) % 24).astype(float),
        "country": rng.choice(["DE", "FR", "US", "BR"], m, p=[0.25, 0.25, 0.3, 0.2]).tolist(),
        "stable_country": rng.choice(["DE", "FR", "US"], m, p=[0.3, 0.3, 0.4]).tolist(),
    }
    # identical distributions of several shapes: normal, skewed, discrete with ties, heavy-tailed
    makers = [lambda k: rng.normal(5, 2, k), lambda k: rng.exponential(1.0, k),
              lambda k: rng.poisson(3, k).astype(float), lambda k: rng.standard_t(3, k)]
    for i in range(IDENTICAL):
        ref[f"same_{i}"], cur[f"same_{i}"] = makers[i % 4](n), makers[i % 4](m)
    r = frames(pa.table(ref))
    c = frames(pa.table({**cur, "_source": ["online"] * m}))
    numeric = [k for k in ref if k not in ("country", "stable_country")]
    num = numeric_summaries(r, c, numeric, ["online"], bins=10)
    cat = categorical_summaries(r, c, ["country", "stable_country"], ["online"], top_k=50)
    policy = drift.DriftPolicy(thresholds(2))
    rows = drift.assess(num, cat, {}, policy, {}, ["online"])
    drifted = {row["name"] for row in rows if row["drifted"]}
    assert drifted == {"mean_shift", "variance_shift", "scale_x100", "hour_shift", "country"}
    by_name = {row["name"]: row for row in rows}
    assert by_name["country"]["new_categories"] == 1
    assert all(by_name[f"same_{i}"]["votes"] == 0 for i in range(IDENTICAL))


def test_all_null_and_single_valued_columns_get_no_invented_numbers(frames):
    """A serving column that is all null has nothing to compare: every distribution score is None (the
    null-rate gate of the quality stage reports it), never 0 or NaN. Equal constants on both sides are
    identical: KS 0."""
    rng = np.random.default_rng(3)
    n, m = 2000, 1000
    r = frames(pa.table({"all_null": rng.normal(0, 1, n), "constant": np.full(n, 7.0),
                         "country": rng.choice(["DE", "FR"], n).tolist()}))
    c = frames(pa.table({"all_null": pa.nulls(m, pa.float64()), "constant": np.full(m, 7.0),
                         "country": pa.nulls(m, pa.string()), "_source": ["online"] * m}))
    num = numeric_summaries(r, c, ["all_null", "constant"], ["online"], bins=10)
    cat = categorical_summaries(r, c, ["country"], ["online"], top_k=50)
    policy = drift.DriftPolicy(thresholds(2))
    rows = {row["name"]: row for row in drift.assess(num, cat, {}, policy, {}, ["online"])}
    scores = ("ks", "ks_pvalue", "wasserstein", "wasserstein_norm", "psi", "js_distance", "mean_cur", "smd",
              "variance_ratio")
    empty = rows["all_null"]
    assert (empty["null_rate_ref"], empty["null_rate_cur"], empty["rows_cur"]) == (0.0, 1.0, m)
    assert {k: empty[k] for k in scores} == dict.fromkeys(scores)
    assert (empty["votes"], empty["drifted"]) == (0, False)
    country = rows["country"]
    assert country["null_rate_cur"] == 1.0 and (country["votes"], country["drifted"]) == (0, False)
    assert {k: country[k] for k in ("psi", "js_distance", "linf", "chi2_pvalue")} == dict.fromkeys(
        ("psi", "js_distance", "linf", "chi2_pvalue"))
    const = rows["constant"]
    assert (const["ks"], const["wasserstein"], const["mean_ref"], const["mean_cur"], const["drifted"]) == (
        0.0, 0.0, 7.0, 7.0, False)
