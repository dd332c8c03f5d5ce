"""Transformation causes: why a feature differs offline vs online (docs/transformation-audit.md).

Each detector looks at small summaries of one feature and returns a finding with the fitted parameter
(shift in hours, factor, window) and a confidence, or nothing. A cause is only claimed where the
difference is not plain population drift: with aligned pairs, the pairs themselves must disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from drift_audit.core.contract import Contract, Feature, parse_duration
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.summaries import SkewSummary

KNOWN_FACTORS = (100.0, 0.01, 1000.0, 0.001, 60.0, 1 / 60, 3600.0, 1 / 3600, 86400.0, 1 / 86400, 1e6, 1e-6)
WINDOW_DAYS = (1, 7, 14, 28, 30, 90)
PERIODS = {"hour_of_day": 24, "day_of_week": 7}
MIN_PAIRS = 30


def period_of(feat: Feature) -> int | None:
    return PERIODS.get(feat.logical_type)


def _finding(contract: Contract, feat: str, kind: str, evidence: dict[str, Any], confidence: float,
             sources: Sequence[str]) -> Finding:
    return Finding(contract.group, feat, kind, severity_for(contract.risk_tier, True), evidence,
                   "transformation_audit", tuple(sorted(sources)), confidence=round(confidence, 4))


def _skewed(s: SkewSummary | None, tolerance_share: float) -> bool:
    return s is not None and s.aligned >= MIN_PAIRS and (s.aligned - s.matches) / s.aligned > tolerance_share


def timezone_shift(feat: Feature, skew: SkewSummary | None,
                   exact: Sequence[Sequence[float]] | None) -> dict[str, Any] | None:
    """Best circular shift of a cyclic feature: from aligned pairs, else from the two histograms."""
    period = period_of(feat)
    if period is None:
        return None
    if skew is not None and skew.circular_shifts:
        total = sum(c for _, c in skew.circular_shifts)
        shift, count = skew.circular_shifts[0]
        share = count / total if total else 0.0
        if shift != 0 and share >= 0.8 and total >= MIN_PAIRS:
            signed = shift if shift <= period // 2 else shift - period
            return {"shift": signed, "unit": "hours" if period == 24 else "days", "explained_share": round(share, 4),
                    "method": "aligned pairs", "pairs": total}
        return None
    if not exact:
        return None
    p = np.zeros(period)
    q = np.zeros(period)
    for value, r, c in exact:
        idx = int(round(value)) % period
        p[idx] += r
        q[idx] += c
    if p.sum() == 0 or q.sum() == 0:
        return None
    p, q = p / p.sum(), q / q.sum()
    dist = [0.5 * float(np.abs(q - np.roll(p, s)).sum()) for s in range(period)]
    best = int(np.argmin(dist))
    if best != 0 and dist[best] < 0.05 and dist[0] > 2 * dist[best] + 0.02:
        signed = best if best <= period // 2 else best - period
        return {"shift": signed, "unit": "hours" if period == 24 else "days",
                "explained_share": round(1 - dist[best] / dist[0], 4), "method": "histogram shift",
                "total_variation_unshifted": round(dist[0], 4), "total_variation_shifted": round(dist[best], 4)}
    return None


def unit_factor(skew: SkewSummary | None, num: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """online = factor x offline for a known unit factor: from pairs, else from means and stds."""
    if skew is not None and skew.compared >= MIN_PAIRS:
        best = max(skew.factor_shares, key=lambda t: t[1], default=(1.0, 0.0))
        if best[1] >= 0.9:
            observed = math.exp(skew.log_ratio_mean) if skew.log_ratio_mean is not None else best[0]
            return {"factor": best[0], "observed_ratio": round(observed, 6), "share_of_pairs": round(best[1], 4),
                    "method": "aligned pairs", "pairs": skew.compared}
        return None
    if not num or not num.get("mean_ref") or not num.get("std_ref"):
        return None
    mean_ratio = (num.get("mean_cur") or 0.0) / num["mean_ref"]
    std_ratio = (num.get("std_cur") or 0.0) / num["std_ref"]
    for k in KNOWN_FACTORS:
        if abs(mean_ratio / k - 1) < 0.03 and abs(std_ratio / k - 1) < 0.03:
            return {"factor": k, "observed_ratio": round(mean_ratio, 6), "std_ratio": round(std_ratio, 6),
                    "method": "mean and std ratio"}
    return None


def window_ratio(feat: Feature, skew: SkewSummary | None, num: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """online/offline mean ratio ~ another window over the declared one (sum/count), or sum vs mean."""
    try:
        declared = parse_duration(feat.window)
    except ValueError:
        return None
    if not declared:
        return None
    days = declared / 86400
    if skew is not None and skew.compared >= MIN_PAIRS and skew.offline_mean:
        ratio, method = (skew.online_mean or 0.0) / skew.offline_mean, "aligned pairs"
    elif num and num.get("mean_ref"):
        ratio, method = (num.get("mean_cur") or 0.0) / num["mean_ref"], "means"
    else:
        return None
    if feat.aggregation in ("sum", "count"):
        for cand in WINDOW_DAYS:
            if cand != days and abs(ratio / (cand / days) - 1) < 0.1:
                return {"kind": "window_mismatch", "declared_window": feat.window, "online_window": f"{cand}d",
                        "expected_ratio": round(cand / days, 6), "observed_ratio": round(ratio, 6),
                        "aggregation": feat.aggregation, "method": method}
    if feat.aggregation == "mean" and abs(ratio / days - 1) < 0.15 and days > 1:
        return {"kind": "aggregation_mismatch", "declared_aggregation": "mean", "online_aggregation": "sum",
                "declared_window": feat.window, "observed_ratio": round(ratio, 6), "method": method}
    if feat.aggregation == "sum" and abs(ratio * days - 1) < 0.15 and days > 1:
        return {"kind": "aggregation_mismatch", "declared_aggregation": "sum", "online_aggregation": "mean",
                "declared_window": feat.window, "observed_ratio": round(ratio, 6), "method": method}
    return None


def null_sentinel(feat: Feature, skew: SkewSummary | None) -> dict[str, Any] | None:
    """Offline nulls served as one sentinel value online."""
    if skew is None or not skew.sentinels:
        return None
    offline_nulls = skew.offline_null_online_value + skew.both_null
    if offline_nulls < MIN_PAIRS // 3 or skew.offline_null_online_value < 0.9 * offline_nulls:
        return None
    value, count = skew.sentinels[0]
    if count < 0.9 * skew.offline_null_online_value:
        return None
    return {"sentinel": None if feat.is_pii else value, "offline_nulls": offline_nulls,
            "served_as_sentinel": count, "share": round(count / offline_nulls, 4),
            "offline_null_rate": round(offline_nulls / skew.aligned, 6) if skew.aligned else None,
            "default_value_in_contract": feat.default_value or None, "method": "aligned pairs"}


def detect(contract: Contract, rows: Sequence[Mapping[str, Any]], skews: Mapping[tuple[str, str], SkewSummary],
           exact: Mapping[tuple[str, str], Sequence[Sequence[float]]], skew_share: float) -> list[Finding]:
    """Cause findings for every drifted or skewed feature of the group (per online source, merged)."""
    out: list[Finding] = []
    for row in rows:
        name, side = row["name"], row["side"]
        feat = contract.feature(name)
        skew = skews.get((name, side))
        has_pairs = skew is not None and skew.aligned >= MIN_PAIRS
        if has_pairs and not _skewed(skew, skew_share):
            continue  # pairs agree: any distribution change is population drift, not a transformation
        if not has_pairs and not row.get("drifted"):
            continue
        if feat.kind == "numeric":
            tz = timezone_shift(feat, skew if has_pairs else None, exact.get((name, side)))
            if tz:
                out.append(_finding(contract, name, "timezone_mismatch", {**tz, "declared_timezone": feat.timezone or None},
                                    tz["explained_share"], [side]))
                continue
            unit = unit_factor(skew if has_pairs else None, row)
            if unit:
                out.append(_finding(contract, name, "unit_mismatch", {**unit, "declared_unit": feat.unit or None},
                                    unit.get("share_of_pairs", 0.7), [side]))
                continue
            win = window_ratio(feat, skew if has_pairs else None, row)
            if win:
                kind = win.pop("kind")
                conf = max(0.5, 1 - abs(win["observed_ratio"] / win.get("expected_ratio", win["observed_ratio"]) - 1) * 5)
                out.append(_finding(contract, name, kind, win, conf, [side]))
                continue
        sentinel = null_sentinel(feat, skew if has_pairs else None)
        if sentinel:
            out.append(_finding(contract, name, "null_handling_mismatch", sentinel, sentinel["share"], [side]))
    return out
