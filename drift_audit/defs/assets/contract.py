from dagster import AssetExecutionContext, MetadataValue, Output, asset

from drift_audit.defs.assets.common import ASSET_KW, partition, pinned
from drift_audit.defs.resources import AuditSettings
from drift_audit.stages import contracts


@asset(code_version="2", **ASSET_KW)
def contract_snapshot(context: AssetExecutionContext, settings: AuditSettings) -> Output:
    """The group's contract compiled by protoc, pinned by content hash and by the Git commit of contracts/."""
    p = partition(context, settings)
    snap = contracts.snapshot(p.cfg, p.group)
    return pinned(snap, {"contracts": snap["descriptor_set_sha256"]}, snap["contract_sha256"],
                  contract_version=snap["contract"]["version"], git_commit=snap["git"]["commit"] or "none",
                  git_dirty=snap["git"]["dirty"], dirty_sha256=snap["git"]["dirty_sha256"] or "",
                  descriptor_set_sha256=snap["descriptor_set_sha256"],
                  features=MetadataValue.json(list(f["name"] for f in snap["contract"]["features"])))
