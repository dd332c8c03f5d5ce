"""Findings: the audit's unit of output (findings.json), and how they are ranked.

A finding names the feature group, the feature ("*" for the whole group), its kind, a severity, the
evidence (counts, scores, thresholds; never raw values of PII features) and the check that found it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")

# kind -> (stage that detects it, one-line meaning). The vocabulary of findings.json (docs/outputs.md).
KINDS: dict[str, tuple[str, str]] = {
    "type_mismatch": ("contract_diff", "observed type differs from the contract"),
    "type_widening": ("contract_diff", "a store silently widened the contract type"),
    "allowed_value_drift": ("contract_diff", "values outside the contract's allowed set"),
    "nullability_violation": ("contract_diff", "nulls in a non-nullable feature, or above max_null_ratio"),
    "missing_default": ("contract_diff", "online values missing and the contract declares no default"),
    "missing_offline": ("contract_diff", "contract feature absent from the offline data"),
    "missing_online": ("contract_diff", "contract feature absent from the online store or serving logs"),
    "extra_offline": ("contract_diff", "offline column not in the contract"),
    "extra_online": ("contract_diff", "online feature not in the contract"),
    "pii_untokenized": ("contract_diff", "PII feature served without its declared tokenization"),
    "metadata_mismatch": ("contract_diff", "unit/timezone/TTL metadata differs between contract and store"),
    "distribution_drift": ("drift_deltas", "distribution differs offline vs online; cause not established"),
    "population_drift": ("drift_deltas", "distribution moved on both sides alike: the world changed"),
    "training_serving_skew": ("drift_deltas", "same entity at the same time has different values"),
    "region_parity_gap": ("drift_deltas", "online sources disagree with each other"),
    "stale_online_values": ("quality_gates", "online values older than the group's freshness SLA"),
    "null_rate_increase": ("quality_gates", "more nulls online than offline, beyond the tier tolerance"),
    "out_of_range": ("quality_gates", "values outside the contract's [min, max]"),
    "expectation_failed": ("quality_gates", "a Great Expectations check failed"),
    "row_count_change": ("quality_gates", "row count moved against earlier partitions"),
    "empty_partition": ("offline_sample", "no rows in the partition's window"),
    "missing_online_keys": ("online_sample", "sampled entity keys have no online value"),
    "timezone_mismatch": ("transformation_audit", "online is a circular shift of offline: timezone"),
    "unit_mismatch": ("transformation_audit", "online = offline x constant factor: unit"),
    "window_mismatch": ("transformation_audit", "online/offline ratio matches a different window"),
    "aggregation_mismatch": ("transformation_audit", "online/offline relation matches another aggregation"),
    "null_handling_mismatch": ("transformation_audit", "offline nulls served as a sentinel online"),
    "late_arriving_data": ("transformation_audit", "rows arrive after the materialization cutoff"),
    "duplicate_rows": ("transformation_audit", "duplicated (entity, timestamp) rows"),
    "dependency_version_mismatch": ("transformation_audit", "offline and online paths pin different versions"),
    "feature_definition_mismatch": ("transformation_audit", "Feast definition disagrees with the contract"),
    "model_regression": ("model_impact", "a consuming model's metric dropped in the window"),
}


@dataclass(frozen=True)
class Finding:
    feature_group: str
    feature: str
    kind: str
    severity: str
    evidence: dict[str, Any]
    detected_by: str
    sources: tuple[str, ...] = ()
    impacted_models: tuple[str, ...] = ()
    contemporaneous_regression: bool | None = None
    root_cause: str | None = None  # id of the finding that explains this one
    confidence: float | None = None
    score: float = 0.0  # ranking weight (severity x blast radius)

    @property
    def id(self) -> str:
        return f"{self.feature_group}.{self.feature}.{self.kind}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.id
        data["sources"] = list(self.sources)
        data["impacted_models"] = list(self.impacted_models)
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Finding:
        fields = {k: v for k, v in data.items() if k != "id"}
        fields["sources"] = tuple(fields.get("sources", ()))
        fields["impacted_models"] = tuple(fields.get("impacted_models", ()))
        return Finding(**fields)

    def with_(self, **changes: Any) -> Finding:
        return replace(self, **changes)


def severity_for(tier: int, grave: bool = False) -> str:
    """Tier 1 breaches are critical (high if not grave), tier 2 high/medium, tier 3 medium/low."""
    table = {1: ("critical", "high"), 2: ("high", "medium"), 3: ("medium", "low")}
    grave_sev, mild_sev = table.get(tier, ("medium", "low"))
    return grave_sev if grave else mild_sev


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most important first: score, then severity, then id (stable and deterministic)."""
    return sorted(findings, key=lambda f: (-f.score, SEVERITIES.index(f.severity), f.id))


def merge_duplicates(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (group, feature, kind): sources united, evidence kept per detecting check."""
    merged: dict[str, Finding] = {}
    for f in findings:
        if f.id not in merged:
            merged[f.id] = f
            continue
        old = merged[f.id]
        worse = min(old.severity, f.severity, key=SEVERITIES.index)
        evidence = dict(old.evidence)
        if f.detected_by != old.detected_by:
            evidence.setdefault("also_detected_by", {})[f.detected_by] = f.evidence
        merged[f.id] = old.with_(severity=worse, sources=tuple(sorted(set(old.sources) | set(f.sources))),
                                 evidence=evidence, confidence=max(old.confidence or 0, f.confidence or 0) or None)
    return list(merged.values())
