"""Per-feature drift scores and the quorum verdict, from Spark's summaries (docs/statistics.md).

A feature is drifted when at least `quorum` of its applicable methods vote:
  numeric:      psi > t_psi;  wasserstein / std_ref > t_w;  KS test: BH q <= alpha and D >= effect floor
  categorical:  psi > t_psi;  JS distance > t_js;           chi-square: BH q <= alpha and L-inf >= floor
Thresholds come from the contract's risk tier (core.tiers) with per-feature overrides; p-values are
Benjamini-Hochberg adjusted across the features of a group, per online source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drift_audit.core import stats
from drift_audit.core.contract import DriftOverrides
from drift_audit.core.summaries import CategoricalSummary, NumericSummary, SkewSummary


@dataclass(frozen=True)
class DriftPolicy:
    thresholds: Mapping[str, float]  # the tier's (core.tiers.thresholds)
    quorum: int = 2
    fdr_alpha: float = 0.05

    def for_feature(self, overrides: DriftOverrides | None) -> dict[str, float]:
        out = dict(self.thresholds)
        if overrides:
            for name in ("psi", "wasserstein", "js", "effect"):
                value = getattr(overrides, name)
                if value is not None:
                    out[name] = value
        return out


def _clean(value: float | None, digits: int = 12) -> float | None:
    """Round for reproducible JSON; inf/NaN become None."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return round(float(value), digits)


def numeric_scores(s: NumericSummary) -> dict[str, Any]:
    """Scores of one feature and side; with no finite value on a side there is nothing to compare and every
    distribution score is None (never 0, which would read as "identical")."""
    ref_bins = [b.ref for b in s.bins]
    cur_bins = [b.cur for b in s.bins]
    std_ref, std_cur = s.ref.std, s.cur.std
    comparable = bool(s.ref.count and s.cur.count and s.bins)
    w_norm = stats.safe_ratio(s.wasserstein, std_ref) if std_ref else (0.0 if s.wasserstein == 0 else None)
    js = stats.js_distance(ref_bins, cur_bins) if comparable else None
    smd = (stats.standardized_mean_difference(s.ref.mean, s.cur.mean, std_ref or 0.0, std_cur or 0.0)
           if s.ref.mean is not None and s.cur.mean is not None else None)
    return {
        "kind": "numeric",
        "rows_ref": s.ref.rows, "rows_cur": s.cur.rows,
        "null_rate_ref": _clean(s.ref.null_rate), "null_rate_cur": _clean(s.cur.null_rate),
        "nan_ref": s.ref.nan, "nan_cur": s.cur.nan,
        "inf_ref": s.ref.pos_inf + s.ref.neg_inf, "inf_cur": s.cur.pos_inf + s.cur.neg_inf,
        "mean_ref": _clean(s.ref.mean), "mean_cur": _clean(s.cur.mean),
        "std_ref": _clean(std_ref), "std_cur": _clean(std_cur),
        "min_ref": _clean(s.ref.min), "max_ref": _clean(s.ref.max),
        "min_cur": _clean(s.cur.min), "max_cur": _clean(s.cur.max),
        "variance_ratio": (_clean(stats.safe_ratio(std_cur**2, std_ref**2))
                           if std_ref is not None and std_cur is not None else None),
        "smd": _clean(smd),
        "ks": _clean(s.ks) if comparable else None,
        "ks_pvalue": _clean(stats.ks_pvalue(s.ks, s.ref.count, s.cur.count), 15) if comparable else None,
        "wasserstein": _clean(s.wasserstein) if comparable else None,
        "wasserstein_norm": _clean(w_norm) if comparable else None,
        "psi": _clean(stats.psi(ref_bins, cur_bins)) if comparable else None,
        "js_distance": _clean(js), "js_divergence": _clean(js**2 if js is not None else None),
        "bins": [{"index": b.index, "lo": _clean(b.lo), "hi": _clean(b.hi), "ref": b.ref, "cur": b.cur}
                 for b in s.bins],
    }


def categorical_scores(s: CategoricalSummary) -> dict[str, Any]:
    """As numeric_scores: a side without a single non-null value gets no distribution score."""
    ref = [c[1] for c in s.counts]
    cur = [c[2] for c in s.counts]
    comparable = bool(sum(ref) and sum(cur))
    p_chi, dof = stats.chi2_pvalue(ref, cur) if comparable else (None, 0)
    js = stats.js_distance(ref, cur) if comparable else None
    return {
        "kind": "categorical",
        "rows_ref": s.ref_rows, "rows_cur": s.cur_rows,
        "null_rate_ref": _clean(s.ref_nulls / s.ref_rows if s.ref_rows else 0.0),
        "null_rate_cur": _clean(s.cur_nulls / s.cur_rows if s.cur_rows else 0.0),
        "psi": _clean(stats.psi(ref, cur)) if comparable else None,
        "js_distance": _clean(js), "js_divergence": _clean(js**2 if js is not None else None),
        "linf": _clean(stats.linf(ref, cur)) if comparable else None, "chi2_pvalue": _clean(p_chi, 15),
        "chi2_dof": dof,
        "categories_ref": s.ref_categories, "categories_cur": s.cur_categories,
        "new_categories": s.new_categories, "new_category_rows": s.new_rows,
        "missing_categories": s.missing_categories, "missing_category_rows": s.missing_rows,
        "new_category_examples": list(s.new_examples), "missing_category_examples": list(s.missing_examples),
        "frequencies": [{"category": c, "ref": r, "cur": k} for c, r, k in s.counts],
    }


def skew_scores(s: SkewSummary | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "values": s.values, "aligned": s.aligned, "compared": s.compared,
        "match_rate": _clean(s.match_rate), "mean_abs_diff": _clean(s.mean_abs_diff),
        "beyond_tolerance": s.beyond_tolerance,
        "beyond_tolerance_share": _clean(s.beyond_tolerance / s.aligned if s.aligned else None),
        "offline_null_online_value": s.offline_null_online_value,
        "offline_value_online_null": s.offline_value_online_null,
    }


def vote(scores: dict[str, Any], limits: Mapping[str, float], qvalue: float | None, alpha: float,
         quorum: int) -> dict[str, Any]:
    """Adds `methods` (score, threshold, vote each), `votes` and `drifted` to `scores`."""
    numeric = scores["kind"] == "numeric"
    distance = scores.get("wasserstein_norm") if numeric else scores.get("js_distance")
    effect = scores.get("ks") if numeric else scores.get("linf")
    methods: dict[str, dict[str, Any]] = {
        "psi": {"score": scores.get("psi"), "threshold": limits["psi"]},
        ("wasserstein_norm" if numeric else "js_distance"): {
            "score": distance, "threshold": limits["wasserstein" if numeric else "js"]},
        ("ks_test" if numeric else "chi2_test"): {
            "score": qvalue, "threshold": alpha, "effect": effect, "effect_floor": limits["effect"]},
    }
    for name, m in methods.items():
        if name.endswith("_test"):
            m["vote"] = (m["score"] is not None and m["score"] <= alpha and m["effect"] is not None
                         and m["effect"] >= m["effect_floor"])
        else:
            m["vote"] = m["score"] is not None and m["score"] > m["threshold"]
    votes = sum(1 for m in methods.values() if m["vote"])
    return {**scores, "methods": methods, "votes": votes, "quorum": quorum, "drifted": votes >= quorum}


def assess(
    numeric: Mapping[tuple[str, str], NumericSummary],
    categorical: Mapping[tuple[str, str], CategoricalSummary],
    skew: Mapping[tuple[str, str], SkewSummary],
    policy: DriftPolicy,
    overrides: Mapping[str, DriftOverrides],
    sides: Sequence[str],
) -> list[dict[str, Any]]:
    """One result per (feature, side), with BH-adjusted p-values across the features of each side."""
    results = []
    for side in sides:
        rows: list[dict[str, Any]] = []
        for (feature, s_side), summary in sorted(numeric.items()):
            if s_side == side:
                rows.append({"name": feature, "side": side, **numeric_scores(summary)})
        for (feature, s_side), csum in sorted(categorical.items()):
            if s_side == side:
                rows.append({"name": feature, "side": side, **categorical_scores(csum)})
        pvals = [r.get("ks_pvalue") if r["kind"] == "numeric" else r.get("chi2_pvalue") for r in rows]
        qvals = stats.benjamini_hochberg([1.0 if p is None else p for p in pvals])
        for row, q in zip(rows, qvals, strict=True):
            limits = policy.for_feature(overrides.get(row["name"]))
            voted = vote(row, limits, _clean(q, 15), policy.fdr_alpha, policy.quorum)
            voted["qvalue"] = _clean(q, 15)
            voted["skew"] = skew_scores(skew.get((row["name"], side)))
            results.append(voted)
    return sorted(results, key=lambda r: (r["name"], r["side"]))
