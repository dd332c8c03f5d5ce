"""Value-level transformation causes: why a feature differs offline vs online (docs/transformation-audit.md).

Each detector looks at small summaries of one feature on one online source and returns the evidence of a
cause with its fitted parameter (shift in hours, factor, window), or nothing. Aligned pairs (the same
entity at the same time on both sides) decide when there are enough of them: a feature whose pairs agree
has no transformation cause, whatever its distribution did (that is population drift). Without pairs the
detectors compare the shapes of the offline partition and the online source (core.shapes): the same
day and entities, so population drift cancels there too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from drift_audit.core.contract import Contract, Feature, parse_duration
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.shapes import TIME_BINS_PER_HOUR, Shape, TimeOfDay
from drift_audit.core.summaries import SkewSummary

KNOWN_FACTORS = (100.0, 0.01, 1000.0, 0.001, 60.0, 1 / 60, 3600.0, 1 / 3600, 86400.0, 1 / 86400, 1e6, 1e-6)
WINDOW_DAYS = (1 / 24, 0.25, 0.5, 1, 2, 3, 7, 14, 28, 30, 60, 90, 180, 365)
PERIODS = {"hour_of_day": 24, "day_of_week": 7}
SENTINELS = ("0", "-1", "", "false")
MIN_PAIRS = 30  # aligned pairs needed to judge from pairs
MIN_VALUES = 30  # values per side needed to judge from shapes
MIN_QUANTILES = 5  # usable quantile ratios for a unit factor


def period_of(feat: Feature) -> int | None:
    return PERIODS.get(feat.logical_type)


def _skewed(s: SkewSummary | None, tolerance_share: float) -> bool:
    return s is not None and s.aligned >= MIN_PAIRS and (s.aligned - s.matches) / s.aligned > tolerance_share


def _signed(shift: int, period: int) -> int:
    return shift if shift <= period // 2 else shift - period


def circular_fit(p_counts: Sequence[float], q_counts: Sequence[float]) -> dict[str, Any] | None:
    """The circular shift s that makes q look most like p rolled by s, when it explains the difference.

    The total variation distance (TV) after the shift must be within sampling noise (two samples of n drawn
    alike have E[TV] <= sqrt(bins / (pi n)); twice that is allowed, at least 0.05) and the unshifted TV
    substantial: at least 0.1 and twice the shifted one plus 0.05."""
    p, q = np.asarray(p_counts, float), np.asarray(q_counts, float)
    if min(p.sum(), q.sum()) < MIN_VALUES:
        return None
    n = 2 / (1 / p.sum() + 1 / q.sum())
    p, q = p / p.sum(), q / q.sum()
    tv = [0.5 * float(np.abs(q - np.roll(p, s)).sum()) for s in range(len(p))]
    best = int(np.argmin(tv))
    noise = max(0.05, 2 * math.sqrt(len(p) / (math.pi * n)))  # twice the expected TV of two samples alike
    if best == 0 or tv[best] > noise or tv[0] < max(0.1, 2 * tv[best] + 0.05):
        return None
    return {"bins": _signed(best, len(p)), "explained_share": round(1 - tv[best] / tv[0], 4),
            "total_variation_unshifted": round(tv[0], 4), "total_variation_shifted": round(tv[best], 4),
            "values_offline": int(sum(p_counts)), "values_online": int(sum(q_counts))}


def timezone_shift(feat: Feature, skew: SkewSummary | None, off: Shape | None, on: Shape | None
                   ) -> dict[str, Any] | None:
    """Hour-of-day / day-of-week features: the online values are the offline ones circularly shifted.
    From the pairs, the most common (online - offline) mod period; else the histograms' best shift."""
    period = period_of(feat)
    if period is None:
        return None
    unit = "hours" if period == 24 else "days"
    if skew is not None:
        total = sum(c for _, c in skew.circular_shifts)
        if not skew.circular_shifts or total < MIN_PAIRS:
            return None
        shift, count = skew.circular_shifts[0]
        share = count / total
        if shift == 0 or share < 0.8:
            return None
        return {"shift": _signed(shift, period), "unit": unit, "explained_share": round(share, 4),
                "method": "aligned pairs", "pairs": total}
    if off is None or on is None:
        return None
    fit = circular_fit(_cyclic(off, period), _cyclic(on, period))
    if fit is None:
        return None
    return {"shift": fit.pop("bins"), "unit": unit, **fit, "method": "histogram shift"}


def _cyclic(shape: Shape, period: int) -> list[int]:
    out = [0] * period
    for value, count in shape.cyclic:
        out[value % period] += count
    return out


def timestamp_shift(off: TimeOfDay, on: TimeOfDay) -> dict[str, Any] | None:
    """Event timestamps: the online time-of-day histogram is the offline one shifted (15-minute bins)."""
    fit = circular_fit(off.bins, on.bins)
    if fit is None:
        return None
    hours = fit.pop("bins") / TIME_BINS_PER_HOUR
    return {"shift": int(hours) if hours.is_integer() else hours, "unit": "hours", **fit,
            "method": "time-of-day histogram shift"}


def unit_factor(skew: SkewSummary | None, off: Shape | None, on: Shape | None) -> dict[str, Any] | None:
    """online = factor x offline for a known unit factor (x100, x1000, /60, x3600 ...).
    From the pairs, the share of pairs with that ratio; else a near-constant ratio of quantiles: the
    median ratio within 5% of the factor and 80% of the 19 grid ratios within 10% of it."""
    if skew is not None:
        if skew.compared < MIN_PAIRS:
            return None
        best = max(skew.factor_shares, key=lambda t: t[1], default=(1.0, 0.0))
        if best[1] < 0.9:
            return None
        observed = math.exp(skew.log_ratio_mean) if skew.log_ratio_mean is not None else best[0]
        return {"factor": best[0], "observed_ratio": round(observed, 6), "share_of_pairs": round(best[1], 4),
                "method": "aligned pairs", "pairs": skew.compared}
    if off is None or on is None or min(off.count, on.count) < MIN_VALUES:
        return None
    q_on = dict(on.quantiles)
    ratios = [q_on[p] / v for p, v in off.quantiles
              if p in q_on and v != 0 and q_on[p] != 0 and (v > 0) == (q_on[p] > 0)]
    if len(ratios) < MIN_QUANTILES:
        return None
    median = float(np.median(ratios))
    factor = min(KNOWN_FACTORS, key=lambda k: abs(math.log(median / k)))
    within = sum(1 for r in ratios if abs(r / factor - 1) <= 0.1) / len(ratios)
    if abs(median / factor - 1) > 0.05 or within < 0.8:
        return None
    return {"factor": factor, "observed_ratio": round(median, 6), "share_within_10pct": round(within, 4),
            "quantile_points": len(ratios), "method": "quantile ratio"}


def window_ratio(feat: Feature, skew: SkewSummary | None, off: Shape | None, on: Shape | None,
                 feast: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """An aggregate whose online/offline mean ratio matches another window (sum, count: ratio = window
    ratio) or another aggregation (sum vs mean over the window), against the contract's declaration;
    `feast` is what the Feast definitions declare for the feature (window, aggregation, declared_by)."""
    try:
        declared = parse_duration(feat.window)
    except ValueError:
        return None
    if not declared or feat.aggregation not in ("sum", "count", "mean"):
        return None
    days = declared / 86400
    if skew is not None:
        if skew.compared < MIN_PAIRS or not skew.offline_mean:
            return None
        ratio, method = (skew.online_mean or 0.0) / skew.offline_mean, "aligned pairs"
    elif off is not None and on is not None and min(off.count, on.count) >= MIN_VALUES and off.mean:
        ratio, method = (on.mean or 0.0) / off.mean, "means"
    else:
        return None
    if ratio <= 0 or abs(ratio - 1) < 0.1:
        return None
    out: dict[str, Any] | None = None
    if feat.aggregation in ("sum", "count"):
        cand = min((c for c in WINDOW_DAYS if c != days), key=lambda c: abs(math.log(ratio / (c / days))))
        if abs(ratio / (cand / days) - 1) < 0.1:
            out = {"kind": "window_mismatch", "online_window": _duration(cand), "online_aggregation": feat.aggregation,
                   "expected_ratio": round(cand / days, 6)}
    elif days > 1 and abs(ratio / days - 1) < 0.15:
        out = {"kind": "aggregation_mismatch", "online_window": feat.window, "online_aggregation": "sum",
               "expected_ratio": round(days, 6)}
    if out is None and feat.aggregation == "sum" and days > 1 and abs(ratio * days - 1) < 0.15:
        out = {"kind": "aggregation_mismatch", "online_window": feat.window, "online_aggregation": "mean",
               "expected_ratio": round(1 / days, 6)}
    if out is None:
        return None
    out.update({"declared_window": feat.window, "declared_aggregation": feat.aggregation,
                "observed_ratio": round(ratio, 6), "method": method})
    if feast:
        out.update({"feast_window": feast.get("window"), "feast_aggregation": feast.get("aggregation"),
                    "feast_declared_by": feast.get("declared_by"),
                    "matches_feast": (feast.get("window"), feast.get("aggregation"))
                    == (out["online_window"], out["online_aggregation"])})
    return out


def _duration(days: float) -> str:
    hours = days * 24
    return f"{int(days)}d" if days >= 1 and float(days).is_integer() else f"{round(hours):d}h"


def null_sentinel(feat: Feature, skew: SkewSummary | None, off: Shape | None, on: Shape | None
                  ) -> dict[str, Any] | None:
    """Offline nulls served as one default value online (0, -1, "", false or the contract's default).
    From the pairs: offline-null pairs holding one value online; else the null rate that disappears
    online reappears, at the same rate, as one sentinel."""
    default = feat.default_value or None
    if skew is not None:
        offline_nulls = skew.offline_null_online_value + skew.both_null
        if not skew.sentinels or offline_nulls < MIN_PAIRS // 3 or skew.offline_null_online_value < 0.9 * offline_nulls:
            return None
        value, count = skew.sentinels[0]
        if count < 0.9 * skew.offline_null_online_value:
            return None
        return {"sentinel": None if feat.is_pii else value, "offline_nulls": offline_nulls,
                "served_as_sentinel": count, "share": round(count / offline_nulls, 4),
                "offline_null_rate": round(offline_nulls / skew.aligned, 6) if skew.aligned else None,
                "default_value_in_contract": default, "method": "aligned pairs"}
    if off is None or on is None or off.nulls < MIN_VALUES // 3:
        return None
    drop = off.null_rate - on.null_rate
    if drop < 0.01:
        return None
    candidates = [c for c in {*SENTINELS, *([default] if default else [])}
                  if on.sentinel_rate(c) - off.sentinel_rate(c) > 0]
    fits = sorted((abs(on.sentinel_rate(c) - off.sentinel_rate(c) - drop), c) for c in candidates)
    if not fits or fits[0][0] > max(0.1 * drop, 0.01):
        return None
    value = fits[0][1]
    gain = on.sentinel_rate(value) - off.sentinel_rate(value)
    return {"sentinel": value, "offline_null_rate": round(off.null_rate, 6), "online_null_rate": round(on.null_rate, 6),
            "sentinel_rate_offline": round(off.sentinel_rate(value), 6),
            "sentinel_rate_online": round(on.sentinel_rate(value), 6), "share": round(min(gain / drop, 1.0), 4),
            "default_value_in_contract": default, "method": "rates"}


def needs_shapes(rows: Sequence[Mapping[str, Any]], skews: Mapping[tuple[str, str], SkewSummary]) -> set[str]:
    """Features that some source has drifted without enough aligned pairs to judge from."""
    return {r["name"] for r in rows
            if r.get("drifted") and ((s := skews.get((r["name"], r["side"]))) is None or s.aligned < MIN_PAIRS)}


def detect(contract: Contract, rows: Sequence[Mapping[str, Any]], skews: Mapping[tuple[str, str], SkewSummary],
           shapes: Mapping[tuple[str, str], Shape], skew_share: float,
           feast: Mapping[str, Mapping[str, Any]] | None = None,
           times: Mapping[str, TimeOfDay] | None = None) -> list[Finding]:
    """Cause findings for every drifted or skewed feature (drift rows per feature and source), plus a
    timezone shift of the event timestamps; one finding per (feature, kind), its sources merged."""
    found: list[tuple[str, str, str, dict[str, Any], float]] = []  # feature, kind, side, evidence, confidence
    for row in rows:
        name, side = row["name"], row["side"]
        feat = contract.feature(name)
        skew = skews.get((name, side))
        has_pairs = skew is not None and skew.aligned >= MIN_PAIRS
        if (has_pairs and not _skewed(skew, skew_share)) or (not has_pairs and not row.get("drifted")):
            continue  # pairs agree (population drift), or nothing moved
        pairs = skew if has_pairs else None
        off, on = shapes.get((name, "offline")), shapes.get((name, side))
        if feat.kind == "numeric" and not feat.is_pii:
            cause = _first_value_cause(feat, pairs, off, on, (feast or {}).get(name))
            if cause:
                kind, evidence, confidence = cause
                found.append((name, kind, side, evidence, confidence))
        sentinel = null_sentinel(feat, pairs, off, on)
        if sentinel:
            found.append((name, "null_handling_mismatch", side, sentinel, sentinel["share"]))
    offline_times = (times or {}).get("offline")
    for side, hist in sorted((times or {}).items()):
        if side != "offline" and offline_times is not None and (tz := timestamp_shift(offline_times, hist)):
            found.append((contract.event_timestamp, "timezone_mismatch", side,
                          {**tz, "column": contract.event_timestamp}, tz["explained_share"]))
    return _merge(contract, found)


def _first_value_cause(feat: Feature, pairs: SkewSummary | None, off: Shape | None, on: Shape | None,
                       feast: Mapping[str, Any] | None) -> tuple[str, dict[str, Any], float] | None:
    """Timezone, else unit, else window/aggregation: the first that explains the difference."""
    tz = timezone_shift(feat, pairs, off, on)
    if tz:
        return "timezone_mismatch", {**tz, "declared_timezone": feat.timezone or None}, tz["explained_share"]
    unit = unit_factor(pairs, off, on)
    if unit:
        conf = float(unit.get("share_of_pairs", unit.get("share_within_10pct", 0.5)))
        return "unit_mismatch", {**unit, "declared_unit": feat.unit or None}, conf
    win = window_ratio(feat, pairs, off, on, feast)
    if win:
        kind = win.pop("kind")
        conf = max(0.5, 1 - abs(win["observed_ratio"] / win["expected_ratio"] - 1) * 5)
        return kind, win, min(1.0, conf + 0.1) if win.get("matches_feast") else conf
    return None


def _merge(contract: Contract, found: Sequence[tuple[str, str, str, dict[str, Any], float]]) -> list[Finding]:
    """One finding per (feature, kind): the evidence of the most confident source on top, each source's
    fitted parameter under `by_source`."""
    groups: dict[tuple[str, str], list[tuple[str, dict[str, Any], float]]] = {}
    for feature, kind, side, evidence, conf in found:
        groups.setdefault((feature, kind), []).append((side, evidence, conf))
    out = []
    for (feature, kind), items in sorted(groups.items()):
        items.sort(key=lambda t: (-t[2], t[0]))
        side, evidence, conf = items[0]
        by_source = {s: {k: v for k, v in e.items() if k in _PARAMS} for s, e, _ in sorted(items)}
        out.append(Finding(contract.group, feature, kind, severity_for(contract.risk_tier, True),
                           {**evidence, "by_source": by_source}, "transformation_audit",
                           tuple(sorted(s for s, _, _ in items)), confidence=round(conf, 4)))
    return out


_PARAMS = ("shift", "factor", "online_window", "online_aggregation", "observed_ratio", "sentinel", "share",
           "explained_share", "method", "pairs")
