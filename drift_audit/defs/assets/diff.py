from typing import Any

from dagster import AssetExecutionContext, asset

from drift_audit.defs.assets.common import ASSET_KW, contract_from, findings_count, input_hashes, pinned
from drift_audit.defs.checks import CONTRACT_CONFORMANCE, result, specs
from drift_audit.stages import diff
from drift_audit.stages.samples import Sample


@asset(code_version="2", check_specs=specs("contract_diff", [CONTRACT_CONFORMANCE]), **ASSET_KW)
def contract_diff(context: AssetExecutionContext, contract_snapshot: dict[str, Any], offline_sample: Sample,
                  online_sample: Sample):
    """The contract against the schemas and values observed offline and in each online source."""
    contract = contract_from(contract_snapshot)
    out = diff.run(contract, offline_sample, online_sample)
    yield pinned(out, input_hashes(contract_snapshot=contract_snapshot, offline_sample=offline_sample,
                                   online_sample=online_sample), findings=findings_count(out))
    bad = [f for f in out["findings"] if f["severity"] != "info"]
    yield result(CONTRACT_CONFORMANCE, not bad, contract.risk_tier, len(bad), 0,
                 kinds=sorted({f["kind"] for f in bad}))
