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
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import transform
from drift_audit.stages.samples import Sample


@asset(code_version="2", **ASSET_KW)
def transformation_audit(context: AssetExecutionContext, settings: AuditSettings,
                         contract_snapshot: dict[str, Any], offline_sample: Sample, online_sample: Sample,
                         drift_deltas: dict[str, Any]):
    """Likely transformation causes (timezone, unit, window, nulls, late data, duplicates, dependencies, Feast
    definitions), each with its evidence and confidence."""
    p = partition(context, settings)
    out = transform.run(p.cfg, contract_from(contract_snapshot), p.window, offline_sample, online_sample,
                        drift_deltas)
    return pinned(out, input_hashes(contract_snapshot=contract_snapshot, offline_sample=offline_sample,
                                    online_sample=online_sample, drift_deltas=drift_deltas),
                  findings=findings_count(out))
