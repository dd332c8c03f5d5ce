"""The ten audit assets, one module per stage; each body reads inputs, calls a stage, returns metadata."""

from drift_audit.defs.assets.contract import contract_snapshot
from drift_audit.defs.assets.diff import contract_diff
from drift_audit.defs.assets.drift import drift_deltas
from drift_audit.defs.assets.impact import model_impact
from drift_audit.defs.assets.plan import remediation_plan
from drift_audit.defs.assets.quality import quality_gates
from drift_audit.defs.assets.report import audit_report
from drift_audit.defs.assets.samples import offline_sample, online_sample
from drift_audit.defs.assets.transform import transformation_audit

ASSETS = [
    contract_snapshot, offline_sample, online_sample, contract_diff, drift_deltas, quality_gates,
    transformation_audit, model_impact, remediation_plan, audit_report,
]

__all__ = ["ASSETS"]
