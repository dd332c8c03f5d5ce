"""Optional (`report.mlflow_runs`): each audit as an MLflow run — metrics, and the report as artifacts.

One run per materialization of a partition, in the experiment `report.mlflow_experiment`, tagged with
the partition; artifacts are stored under `<output_dir>/_mlflow_artifacts/` (never the working folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drift_audit.adapters.mlflow_registry import client
from drift_audit.core.errors import ServiceUnavailableError, redact

ARTIFACTS = ("findings.json", "report.md", "report.html", "summary.md", "validation_matrix.json")
TAG_PARTITION = "drift_audit.partition"


def metrics(plan: dict[str, Any], drift: dict[str, Any]) -> dict[str, float]:
    findings = plan["findings"]
    out: dict[str, float] = {f"findings_{s}": float(sum(1 for f in findings if f["severity"] == s))
                             for s in ("critical", "high", "medium", "low", "info")}
    rows = drift.get("features", [])
    out.update(findings=float(len(findings)), actions=float(len(plan["actions"])),
               patches=float(len(plan["patches"])),
               escalations=float(sum(1 for a in plan["actions"] if a.get("escalation"))),
               drifted_features=float(len({r["name"] for r in rows if r.get("drifted")})),
               max_psi=float(max((r.get("psi") or 0.0 for r in rows), default=0.0)),
               models_regressed=float(sum(1 for m in plan["models"] if m["regressed"])))
    return out


def log_audit(uri: str, experiment: str, artifact_root: Path, day: str, group: str, plan: dict[str, Any],
              drift: dict[str, Any], folder: Path) -> str:
    """Log the partition's audit as a finished run; returns the run id."""
    try:
        mc = client(uri)
        exp = mc.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp else mc.create_experiment(experiment, artifact_location=artifact_root.as_uri())
        run = mc.create_run(exp_id, run_name=f"audit {day} {group}",
                            tags={TAG_PARTITION: f"{day}|{group}", "drift_audit.feature_group": group,
                                  "drift_audit.date": day})
        run_id = run.info.run_id
        for key, value in sorted(metrics(plan, drift).items()):
            mc.log_metric(run_id, key, value)
        mc.log_param(run_id, "partition", f"{day}|{group}")
        for name in ARTIFACTS:
            if (folder / name).is_file():
                mc.log_artifact(run_id, str(folder / name))
        mc.set_terminated(run_id)
        return str(run_id)
    except Exception as exc:
        raise ServiceUnavailableError(redact(f"MLflow at {uri} could not log the audit of {day}|{group}: "
                                             f"{type(exc).__name__}: {exc}")) from exc
