"""Default thresholds per contract risk tier, from the MLOps tier table (seed 003, docs/quality-gates.md).

Tier 1 is critical (stricter), tier 3 standard. `drift_audit.yaml` `audit.tiers` overrides any entry, and a
feature's `drift` options override the drift thresholds for that feature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

TIER_TABLE: dict[int, dict[str, float]] = {
    1: {
        "psi": 0.05,  # data drift PSI > 0.05
        "null_rate_increase": 0.003,  # missing value increase > 0.3%
        "model_regression": 0.005,  # accuracy decay > 0.5% (relative)
        "wasserstein": 0.05,  # Wasserstein-1 / reference std
        "effect": 0.05,  # KS statistic or L-inf floor for a significant test to count
        "out_of_range": 0.001,  # share of values outside [min, max]
        "skew_mismatch": 0.001,  # share of aligned pairs that differ beyond tolerance
        "row_count_change": 0.2,  # relative change vs the median of earlier partitions
    },
    2: {
        "psi": 0.10, "null_rate_increase": 0.005, "model_regression": 0.01, "wasserstein": 0.10,
        "effect": 0.08, "out_of_range": 0.005, "skew_mismatch": 0.005, "row_count_change": 0.3,
    },
    3: {
        "psi": 0.15, "null_rate_increase": 0.01, "model_regression": 0.02, "wasserstein": 0.15,
        "effect": 0.10, "out_of_range": 0.01, "skew_mismatch": 0.01, "row_count_change": 0.5,
    },
}


def thresholds(tier: int, overrides: Mapping[int, Mapping[str, float]] | None = None) -> dict[str, float]:
    """The tier's thresholds with config overrides applied; `js` is derived from `psi` unless given.

    For small shifts PSI ~ chi-square distance and the Jensen-Shannon divergence (bits) ~ chi2 / (8 ln 2),
    so the JS distance equivalent to a PSI threshold t is sqrt(t / (8 ln 2))."""
    base = dict(TIER_TABLE[tier])
    base.update((overrides or {}).get(tier, {}))
    base.setdefault("js", math.sqrt(base["psi"] / (8 * math.log(2))))
    return base
