"""Model impact: which registered models consume a finding's feature, and whether they regressed then.

A regression is a relative drop of the monitored metric, from the median of the points before the
window to the worst point inside it, beyond the model's tolerance (its tag, else its tier's
`model_regression`). It is "contemporaneous" with a finding when it falls in the audit window.
Ranking weighs blast radius: score = severity weight x (1 + sum over consuming models of their tier
weight) x 1.5 when a consumer regressed in the window, so a finding on a feature that three tier-1
models consume (weight 1 + 9) outranks the same finding on a feature nobody uses (weight 1).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drift_audit.core.findings import Finding
from drift_audit.core.tiers import thresholds

SEVERITY_WEIGHT = {"critical": 8.0, "high": 4.0, "medium": 2.0, "low": 1.0, "info": 0.25}
TIER_WEIGHT = {1: 3.0, 2: 2.0, 3: 1.0}
REGRESSION_FACTOR = 1.5


@dataclass(frozen=True)
class ModelStatus:
    name: str
    version: int
    risk_tier: int
    owner: str
    metric: str
    features: tuple[str, ...]
    baseline: float | None
    worst_in_window: float | None
    relative_drop: float | None
    tolerance: float
    regressed: bool
    aliases: tuple[str, ...] = ()
    points_in_window: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def model_status(model: Any, window_start_ms: int, window_end_ms: int, baseline_points: int,
                 tier_overrides: Mapping[int, Mapping[str, float]] | None = None) -> ModelStatus:
    """Baseline, worst point in [start, end) and whether the relative drop exceeds the tolerance."""
    tier = model.risk_tier if model.risk_tier in TIER_WEIGHT else 3
    tolerance = getattr(model, "tolerance", None)
    if tolerance is None:
        tolerance = thresholds(tier, tier_overrides)["model_regression"]
    before = [v for t, v in model.history if t < window_start_ms][-baseline_points:]
    inside = [v for t, v in model.history if window_start_ms <= t < window_end_ms]
    baseline = statistics.median(before) if before else None
    worst = (min(inside) if model.higher_is_better else max(inside)) if inside else None
    drop = None
    if baseline is not None and baseline != 0 and worst is not None:
        drop = (baseline - worst) / abs(baseline) if model.higher_is_better else (worst - baseline) / abs(baseline)
    return ModelStatus(model.name, model.version, model.risk_tier, model.owner, model.metric, model.features,
                       _r(baseline), _r(worst), _r(drop), tolerance, drop is not None and drop > tolerance,
                       tuple(getattr(model, "aliases", ())), len(inside))


def consumers(group: str, feature: str, models: Sequence[ModelStatus]) -> list[ModelStatus]:
    """Models whose features tag names `group.feature` or `group.*`; a group-wide finding ("*") reaches
    every model that consumes any feature of the group."""
    def uses(m: ModelStatus) -> bool:
        for ref in m.features:
            g, _, f = ref.partition(".")
            if g == group and (f in ("*", feature) or feature == "*"):
                return True
        return False

    return [m for m in models if uses(m)]


def blast_radius(used_by: Sequence[ModelStatus]) -> float:
    """Sum of tier weights over the consuming models, each model counted once (its most critical version)."""
    best: dict[str, float] = {}
    for m in used_by:
        best[m.name] = max(best.get(m.name, 0.0), TIER_WEIGHT.get(m.risk_tier, 1.0))
    return sum(best.values())


def annotate(findings: Sequence[Finding], models: Sequence[ModelStatus]) -> list[Finding]:
    """Each finding with its impacted models (`name@vN`), the contemporaneous flag (None: no consumer)
    and its score."""
    out = []
    for f in findings:
        used_by = consumers(f.feature_group, f.feature, models)
        regressed = any(m.regressed for m in used_by)
        out.append(f.with_(
            impacted_models=tuple(sorted(f"{m.name}@v{m.version}" for m in used_by)),
            contemporaneous_regression=regressed if used_by else None,
            score=round(SEVERITY_WEIGHT[f.severity] * (1 + blast_radius(used_by))
                        * (REGRESSION_FACTOR if regressed else 1.0), 4),
        ))
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
