from typing import Any

from dagster import AssetExecutionContext, MetadataValue, asset

from drift_audit.defs.assets.common import ASSET_KW, contract_from, input_hashes, partition, pinned
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import plan
from drift_audit.stages.samples import Sample


@asset(code_version="2", **ASSET_KW)
def remediation_plan(context: AssetExecutionContext, settings: AuditSettings, contract_snapshot: dict[str, Any],
                     offline_sample: Sample, online_sample: Sample, contract_diff: dict[str, Any],
                     drift_deltas: dict[str, Any], quality_gates: dict[str, Any],
                     transformation_audit: dict[str, Any], model_impact: dict[str, Any]):
    """All findings merged, ranked by blast radius, linked to root causes, each with a concrete action."""
    p = partition(context, settings)
    upstream = [offline_sample.meta, online_sample.meta, contract_diff, drift_deltas, quality_gates,
                transformation_audit]
    out = plan.run(p.cfg, contract_from(contract_snapshot), p.window, upstream, model_impact)
    return pinned(out, input_hashes(contract_diff=contract_diff, drift_deltas=drift_deltas, quality_gates=quality_gates,
                                    transformation_audit=transformation_audit, model_impact=model_impact),
                  findings=len(out["findings"]), actions=len(out["actions"]),
                  patches=MetadataValue.json(sorted(out["patches"])))
