"""Model impact: which registered models consume a finding's feature, and whether they regressed then.

A regression is a relative drop of the monitored metric, between the median of the points before the
window and the worst point inside it, beyond the model tier's tolerance (core.tiers `model_regression`).
Ranking weighs blast radius: severity weight x (1 + sum of consumer tier weights).
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

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def model_status(model: Any, window_start_ms: int, window_end_ms: int, baseline_points: int,
                 tier_overrides: Mapping[int, Mapping[str, float]] | None = None) -> ModelStatus:
    tolerance = thresholds(model.risk_tier if model.risk_tier in (1, 2, 3) else 3, tier_overrides)["model_regression"]
    before = [v for t, v in model.history if t < window_start_ms][-baseline_points:]
    inside = [v for t, v in model.history if window_start_ms <= t < window_end_ms]
    baseline = statistics.median(before) if before else None
    worst = (min(inside) if model.higher_is_better else max(inside)) if inside else None
    drop = None
    if baseline not in (None, 0) and worst is not None:
        assert baseline is not None
        drop = (baseline - worst) / abs(baseline) if model.higher_is_better else (worst - baseline) / abs(baseline)
    return ModelStatus(model.name, model.version, model.risk_tier, model.owner, model.metric, model.features,
                       _r(baseline), _r(worst), _r(drop), tolerance, drop is not None and drop > tolerance)


def consumers(group: str, feature: str, models: Sequence[ModelStatus]) -> list[ModelStatus]:
    def uses(m: ModelStatus) -> bool:
        for ref in m.features:
            g, _, f = ref.partition(".")
            if g == group and (f in ("*", feature) or feature == "*"):
                return True
        return False

    return [m for m in models if uses(m)]


def annotate(findings: Sequence[Finding], models: Sequence[ModelStatus]) -> list[Finding]:
    out = []
    for f in findings:
        used_by = consumers(f.feature_group, f.feature, models)
        regressed = any(m.regressed for m in used_by)
        radius = sum(TIER_WEIGHT.get(m.risk_tier, 1.0) for m in used_by)
        out.append(f.with_(
            impacted_models=tuple(sorted(f"{m.name}@v{m.version}" for m in used_by)),
            contemporaneous_regression=regressed if used_by else None,
            score=round(SEVERITY_WEIGHT[f.severity] * (1 + radius) * (1.5 if regressed else 1.0), 4),
        ))
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
