"""Thresholds per risk tier: the seed's tier table by default, `audit.tiers` overrides, clear errors."""

from __future__ import annotations

import math

import pytest

from drift_audit.core.errors import ConfigError
from drift_audit.core.tiers import TIER_TABLE, thresholds


def test_defaults_are_the_seed_tier_table():
    seed = {"psi": (0.05, 0.10, 0.15), "null_rate_increase": (0.003, 0.005, 0.01),
            "model_regression": (0.005, 0.01, 0.02)}
    for name, values in seed.items():
        assert tuple(thresholds(t)[name] for t in (1, 2, 3)) == values
    assert all(thresholds(t)["freshness_sla_s"] == 25 * 3600 for t in (1, 2, 3))


@pytest.mark.parametrize("name", sorted(TIER_TABLE[1]))
def test_tier_1_is_never_looser_than_tier_3(name):
    if name != "freshness_sla_s":
        assert TIER_TABLE[1][name] <= TIER_TABLE[2][name] <= TIER_TABLE[3][name]


def test_config_overrides_one_tier_and_js_follows_psi():
    t = thresholds(2, {2: {"psi": 0.2, "row_count_change": 0.1}, 1: {"psi": 0.01}})
    assert t["psi"] == 0.2 and t["row_count_change"] == 0.1 and t["out_of_range"] == TIER_TABLE[2]["out_of_range"]
    assert t["js"] == pytest.approx(math.sqrt(0.2 / (8 * math.log(2))))
    assert thresholds(2, {2: {"js": 0.3}})["js"] == 0.3


@pytest.mark.parametrize(("overrides", "message"), [
    ({4: {"psi": 0.1}}, r"audit.tiers.4: unknown risk tier"),
    ({1: {"psl": 0.1}}, r"audit.tiers.1.psl: unknown threshold"),
    ({3: {"psi": -1.0}}, r"audit.tiers.3.psi: must be >= 0"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        thresholds(1, overrides)
