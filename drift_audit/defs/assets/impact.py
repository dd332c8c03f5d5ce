from dagster import AssetExecutionContext, MetadataValue, asset

from drift_audit.adapters import mlflow_registry
from drift_audit.defs.assets.common import ASSET_KW, partition, pinned
from drift_audit.defs.resources import AuditSettings, MLflowResource
from drift_audit.stages import impact


@asset(code_version="2", **ASSET_KW)
def model_impact(context: AssetExecutionContext, settings: AuditSettings, mlflow: MLflowResource):
    """Registered models consuming the group's features, and whether each regressed in the window."""
    p = partition(context, settings)
    out = impact.run(p.cfg, p.group, p.window, mlflow_registry.read_models(mlflow.uri()))
    return pinned(out, {"registry": "mlflow"}, models=len(out["models"]), regressed=MetadataValue.json(out["regressed"]))
