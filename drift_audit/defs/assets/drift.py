from typing import Any

from dagster import AssetExecutionContext, asset

from drift_audit.defs.assets.common import (
    ASSET_KW,
    contract_from,
    findings_count,
    input_hashes,
    partition,
    pinned,
)
from drift_audit.defs.checks import DRIFT_THRESHOLDS, ROW_LEVEL_PARITY, result, specs
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import drift
from drift_audit.stages.samples import Sample


@asset(code_version="1", check_specs=specs("drift_deltas", [DRIFT_THRESHOLDS, ROW_LEVEL_PARITY]), **ASSET_KW)
def drift_deltas(context: AssetExecutionContext, settings: AuditSettings, contract_snapshot: dict[str, Any],
                 offline_sample: Sample, online_sample: Sample):
    """KS, PSI, Wasserstein, Jensen-Shannon, chi-square and moments per feature and source; row-level skew."""
    p = partition(context, settings)
    contract = contract_from(contract_snapshot)
    out = drift.run(p.cfg, contract, offline_sample, online_sample)
    yield pinned(out, input_hashes(contract_snapshot=contract_snapshot, offline_sample=offline_sample,
                                   online_sample=online_sample), findings=findings_count(out))
    drifted = sorted({r["name"] for r in out["features"] if r["drifted"]})
    yield result(DRIFT_THRESHOLDS, not drifted, contract.risk_tier, len(drifted), 0, drifted=drifted,
                 quorum=out["quorum"])
    skewed = sorted({f["feature"] for f in out["findings"] if f["kind"] == "training_serving_skew"})
    yield result(ROW_LEVEL_PARITY, not skewed, contract.risk_tier, len(skewed), out["thresholds"]["skew_mismatch"],
                 skewed=skewed)
