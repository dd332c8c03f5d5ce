"""Default thresholds per contract risk tier (docs/quality-gates.md has the table and where each comes from).

The drift, missing-value and model-decay rows are the MLOps tier table of seed 003 ("Drift Detection &
Auto-Retraining Configuration"); the default freshness SLA is its "daily < 25 hours"; the other rows
are ours, ordered the same way (tier 1 strictest). `drift_audit.yaml` `audit.tiers` overrides any entry
per tier, and a feature's `drift` contract options override the drift thresholds for that feature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from drift_audit.core.errors import ConfigError

TIER_TABLE: dict[int, dict[str, float]] = {
    1: {
        "psi": 0.05,  # seed: data drift PSI > 0.05
        "null_rate_increase": 0.003,  # seed: missing value increase > 0.3%
        "model_regression": 0.005,  # seed: accuracy decay > 0.5% (relative drop of the monitored metric)
        "wasserstein": 0.05,  # Wasserstein-1 / reference std
        "effect": 0.05,  # KS statistic or L-inf floor for a significant test to count
        "out_of_range": 0.001,  # share of values outside the contract's [min, max]
        "skew_mismatch": 0.001,  # share of aligned pairs that differ beyond tolerance
        "row_count_change": 0.2,  # relative change vs the median of earlier partitions
        "late_data_share": 0.01,  # share of offline rows created after the materialization cutoff
        "freshness_sla_s": 90_000.0,  # seed: daily features < 25 hours; used when the contract has no SLA
    },
    2: {
        "psi": 0.10, "null_rate_increase": 0.005, "model_regression": 0.01, "wasserstein": 0.10,
        "effect": 0.08, "out_of_range": 0.005, "skew_mismatch": 0.005, "row_count_change": 0.3,
        "late_data_share": 0.02, "freshness_sla_s": 90_000.0,
    },
    3: {
        "psi": 0.15, "null_rate_increase": 0.01, "model_regression": 0.02, "wasserstein": 0.15,
        "effect": 0.10, "out_of_range": 0.01, "skew_mismatch": 0.01, "row_count_change": 0.5,
        "late_data_share": 0.05, "freshness_sla_s": 90_000.0,
    },
}
KNOWN = frozenset(TIER_TABLE[1]) | {"js"}


def thresholds(tier: int, overrides: Mapping[int, Mapping[str, float]] | None = None) -> dict[str, float]:
    """The tier's thresholds with config overrides applied; `js` is derived from `psi` unless given.

    For small shifts PSI ~ chi-square distance and the Jensen-Shannon divergence (bits) ~ chi2 / (8 ln 2),
    so the JS distance equivalent to a PSI threshold t is sqrt(t / (8 ln 2))."""
    validate_overrides(overrides or {})
    if tier not in TIER_TABLE:
        raise ConfigError(f"risk tier {tier} has no thresholds: tiers are 1, 2 and 3")
    base = dict(TIER_TABLE[tier])
    base.update((overrides or {}).get(tier, {}))
    base.setdefault("js", math.sqrt(base["psi"] / (8 * math.log(2))))
    return base


def validate_overrides(overrides: Mapping[int, Mapping[str, float]]) -> None:
    """`audit.tiers` may only name tiers 1-3 and known thresholds, with non-negative values."""
    for tier, entries in overrides.items():
        if tier not in TIER_TABLE:
            raise ConfigError(f"audit.tiers.{tier}: unknown risk tier (use 1, 2 or 3)")
        for name, value in entries.items():
            if name not in KNOWN:
                raise ConfigError(f"audit.tiers.{tier}.{name}: unknown threshold (known: {', '.join(sorted(KNOWN))})")
            if not value >= 0:
                raise ConfigError(f"audit.tiers.{tier}.{name}: must be >= 0, got {value}")
