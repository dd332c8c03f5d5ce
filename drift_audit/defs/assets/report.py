from typing import Any

from dagster import AssetExecutionContext, MetadataValue, asset

from drift_audit.defs.assets.common import ASSET_KW, input_hashes, partition, pinned
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import report


@asset(code_version="2", **ASSET_KW)
def audit_report(context: AssetExecutionContext, settings: AuditSettings, contract_snapshot: dict[str, Any],
                 contract_diff: dict[str, Any], drift_deltas: dict[str, Any], quality_gates: dict[str, Any],
                 transformation_audit: dict[str, Any], remediation_plan: dict[str, Any]):
    """The partition's deliverables (findings.json, report.md/.html, summary, notification, tickets, patches,
    validation matrix, catalog, plots) under the output folder, and an entry in the change log."""
    p = partition(context, settings)
    hashes = input_hashes(contract_snapshot=contract_snapshot, contract_diff=contract_diff, drift_deltas=drift_deltas,
                          quality_gates=quality_gates, transformation_audit=transformation_audit,
                          remediation_plan=remediation_plan)
    out = report.run(p.cfg, p.window, {
        "contract_snapshot": contract_snapshot, "plan": remediation_plan, "drift": drift_deltas,
        "diff": contract_diff, "quality": quality_gates, "transformation": transformation_audit,
        "provenance": sorted(hashes.items())}, actor=f"dagster run {context.run.run_id}")
    # not part of the value: the ledger entry holds wall-clock time, the MLflow run id is random
    preview, entry, mlflow_run = out.pop("markdown_preview"), out.pop("ledger_entry"), out.pop("mlflow_run_id", None)
    extra = {"mlflow_run_id": mlflow_run} if mlflow_run else {}
    return pinned(out, hashes, path=out["path"], findings=out["findings"],
                  by_severity=MetadataValue.json(out["by_severity"]), files=MetadataValue.json(out["files"]),
                  ledger_entry=MetadataValue.json(entry), report=MetadataValue.md(preview), **extra)
