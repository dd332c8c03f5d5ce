"""quality_gates: the asset and where its row-count history comes from (earlier materializations)."""

from datetime import date, timedelta
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetRecordsFilter, MetadataValue, asset

from drift_audit.defs.assets.common import (
    ASSET_KW,
    contract_from,
    findings_count,
    input_hashes,
    partition,
    pinned,
)
from drift_audit.defs.checks import QUALITY_CHECKS, gate_results, specs
from drift_audit.defs.partitions import key
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import quality
from drift_audit.stages.samples import Sample

HISTORY_DAYS = 14


def row_history(context: AssetExecutionContext, day: str, group: str) -> list[int]:
    """Offline partition row counts of the group's earlier days (oldest first), read from the latest
    materialization metadata of `offline_sample` in the Dagster instance; days never audited are skipped."""
    d = date.fromisoformat(day)
    keys = [key((d - timedelta(days=i)).isoformat(), group) for i in range(1, HISTORY_DAYS + 1)]
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("offline_sample"), asset_partitions=keys), limit=200).records
    latest: dict[str, int] = {}
    for rec in sorted(records, key=lambda r: r.storage_id):
        mat = rec.asset_materialization
        if mat is not None and "rows_partition" in mat.metadata:
            latest[str(mat.partition)] = int(mat.metadata["rows_partition"].value)
    return [latest[k] for k in sorted(latest)]


@asset(code_version="2", check_specs=specs("quality_gates", QUALITY_CHECKS), **ASSET_KW)
def quality_gates(context: AssetExecutionContext, settings: AuditSettings, contract_snapshot: dict[str, Any],
                  offline_sample: Sample, online_sample: Sample, contract_diff: dict[str, Any]):
    """Great Expectations suites generated from the contract, freshness, null-ratio, range and row-count gates."""
    p = partition(context, settings)
    contract = contract_from(contract_snapshot)
    history = row_history(context, p.day, p.group)
    out = quality.run(p.cfg, contract, offline_sample, online_sample, contract_diff, history)
    yield pinned(out, {**input_hashes(contract_snapshot=contract_snapshot, offline_sample=offline_sample,
                                      online_sample=online_sample, contract_diff=contract_diff),
                       "row_history": ",".join(map(str, history))}, findings=findings_count(out),
                 validations=MetadataValue.json({side: v["statistics"] for side, v in out["validations"].items()}))
    yield from gate_results(out["gates"], contract.risk_tier)
