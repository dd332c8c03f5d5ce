"""drift_deltas: distribution deltas offline (reference window) vs each online source, and row-level skew."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from drift_audit.config import Config
from drift_audit.core import causes, drift
from drift_audit.core.contract import Contract
from drift_audit.core.findings import Finding, severity_for
from drift_audit.core.summaries import SkewSummary
from drift_audit.core.tiers import thresholds
from drift_audit.spark.profile import categorical_summaries, numeric_summaries
from drift_audit.spark.skew import skew_summaries
from drift_audit.stages.samples import REFERENCE, Sample


def _mask_pii(df: DataFrame, contract: Contract, columns: list[str]) -> DataFrame:
    """PII features are compared through their sha256, so no raw value reaches a summary."""
    for f in contract.features:
        for col in (f.name, f"{f.name}__offline"):
            if f.is_pii and col in columns:
                df = df.withColumn(col, F.sha2(F.col(col).cast("string"), 256))
    return df


def run(cfg: Config, contract: Contract, offline: Sample, online: Sample) -> dict[str, Any]:
    ref = offline.df.where(F.col("_window") == REFERENCE)
    cur = online.df
    ref = _mask_pii(ref, contract, ref.columns)
    cur = _mask_pii(cur, contract, cur.columns)
    sides = sorted(name for name, info in online.meta["sources"].items() if info.get("rows", 0) > 0)
    both = [f for f in contract.features if f.name in ref.columns and f.name in cur.columns]
    numeric_names = [f.name for f in both if f.kind == "numeric" and not f.is_pii]
    categorical_names = [f.name for f in both if f.kind != "numeric" or f.is_pii]
    for f in both:
        if f.kind == "numeric" and not f.is_pii:
            ref = ref.withColumn(f.name, F.col(f.name).cast("double"))
    numeric = numeric_summaries(ref, cur, numeric_names, sides, cfg.audit.bins) if sides else {}
    categorical = categorical_summaries(ref, cur, categorical_names, sides, cfg.audit.top_k) if sides else {}
    aligned = [f for f in online.meta.get("aligned_features", []) if f in cur.columns]
    kinds = {f: ("numeric" if contract.feature(f).kind == "numeric" and not contract.feature(f).is_pii
                 else "categorical") for f in aligned}
    periods = {f: p for f in aligned if (p := causes.period_of(contract.feature(f)))}
    skews = skew_summaries(cur, kinds, cfg.audit.skew_tolerance, periods) if sides else {}
    limits = thresholds(contract.risk_tier, cfg.audit.tiers)
    policy = drift.DriftPolicy(limits, cfg.audit.quorum, cfg.audit.fdr_alpha)
    rows = drift.assess(numeric, categorical, skews, policy, {f.name: f.drift for f in contract.features}, sides)
    for row in rows:
        if contract.feature(row["name"]).is_pii:
            row["frequencies"] = []
            row["new_category_examples"] = []
            row["missing_category_examples"] = []
    findings = _findings(contract, rows, skews, limits["skew_mismatch"])
    return {
        "feature_group": contract.group, "sides": sides, "thresholds": limits, "quorum": cfg.audit.quorum,
        "fdr_alpha": cfg.audit.fdr_alpha, "bins": cfg.audit.bins, "features": rows,
        "skew": {f"{f}|{s}": asdict(v) for (f, s), v in sorted(skews.items())
                 if not contract.feature(f).is_pii or not v.sentinels},
        "exact": {f"{f}|{s}": [list(x) for x in v.exact] for (f, s), v in sorted(numeric.items()) if v.exact},
        "findings": [f.to_dict() for f in findings],
    }


def _mismatch_share(s: SkewSummary | None) -> float | None:
    if s is None or s.aligned < causes.MIN_PAIRS:
        return None
    return (s.aligned - s.matches) / s.aligned


def _findings(contract: Contract, rows: list[dict[str, Any]], skews: dict[tuple[str, str], SkewSummary],
              skew_limit: float) -> list[Finding]:
    out: list[Finding] = []
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_feature.setdefault(row["name"], []).append(row)
    for name, frows in sorted(by_feature.items()):
        drifted = [r for r in frows if r["drifted"]]
        skewed = [r for r in frows if (m := _mismatch_share(skews.get((name, r["side"])))) is not None
                  and m > skew_limit]
        evidence = {r["side"]: _evidence(r, skews.get((name, r["side"]))) for r in frows}
        sev = severity_for(contract.risk_tier, True)
        if skewed:
            out.append(Finding(contract.group, name, "training_serving_skew", sev,
                               {"skew_mismatch_threshold": skew_limit, "by_source": evidence}, "drift_deltas",
                               tuple(sorted(r["side"] for r in skewed))))
        if drifted and not skewed:
            paired = [r for r in drifted if _mismatch_share(skews.get((name, r["side"]))) is not None]
            kind = "population_drift" if paired else "distribution_drift"
            out.append(Finding(contract.group, name, kind, severity_for(contract.risk_tier, kind != "population_drift"),
                               {"by_source": evidence, "note": "aligned pairs match: offline moved too"
                                if paired else "no aligned pairs to tell skew from drift"},
                               "drift_deltas", tuple(sorted(r["side"] for r in drifted))))
        if len(frows) > 1 and 0 < len(drifted) < len(frows):
            out.append(Finding(contract.group, name, "region_parity_gap", severity_for(contract.risk_tier, False),
                               {"drifted_sources": sorted(r["side"] for r in drifted),
                                "stable_sources": sorted(r["side"] for r in frows if not r["drifted"])},
                               "drift_deltas", tuple(sorted(r["side"] for r in frows))))
    return out


def _evidence(row: dict[str, Any], skew: SkewSummary | None) -> dict[str, Any]:
    keep = ("psi", "ks", "ks_pvalue", "qvalue", "wasserstein_norm", "js_distance", "chi2_pvalue", "linf",
            "mean_ref", "mean_cur", "std_ref", "std_cur", "null_rate_ref", "null_rate_cur", "new_categories",
            "votes", "drifted")
    out = {k: row[k] for k in keep if k in row}
    share = _mismatch_share(skew)
    if skew is not None:
        out.update({"aligned_pairs": skew.aligned, "match_rate": row["skew"]["match_rate"] if row.get("skew") else None,
                    "mismatch_share": None if share is None else round(share, 6)})
    return out
