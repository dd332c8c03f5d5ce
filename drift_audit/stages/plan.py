"""remediation_plan: every finding of the partition, merged, annotated with model impact, planned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drift_audit.adapters import git
from drift_audit.config import Config
from drift_audit.core import impact, remediation
from drift_audit.core.contract import Contract
from drift_audit.core.errors import ConfigError
from drift_audit.core.findings import Finding, merge_duplicates, sort_findings
from drift_audit.stages import patch_checks
from drift_audit.stages.window import PartitionWindow


def collect(*outputs: dict[str, Any]) -> list[Finding]:
    found = [Finding.from_dict(f) for out in outputs for f in out.get("findings", [])]
    return merge_duplicates(found)


def run(cfg: Config, contract: Contract, window: PartitionWindow, upstream: list[dict[str, Any]],
        model_impact: dict[str, Any]) -> dict[str, Any]:
    models = [impact.ModelStatus(**{**m, "features": tuple(m["features"])}) for m in model_impact["models"]]
    findings = impact.annotate(collect(*upstream), models)
    findings = sort_findings(remediation.link_root_causes(findings))
    gs = cfg.group(contract.group)
    root = cfg.path(cfg.contracts.root)
    repo = git.repo_root(root) or Path(cfg.base_dir)

    def resolve(path: str) -> Path | None:
        if not path:
            return None
        try:
            return cfg.path(path)
        except ConfigError:
            return None

    def repo_path(path: str) -> str | None:
        target = resolve(path)
        if target is None:
            return None
        try:
            return target.relative_to(repo.resolve()).as_posix()
        except ValueError:
            return None

    def read(path: str) -> str | None:
        target = resolve(path)
        return target.read_text() if target and target.is_file() else None

    inputs = remediation.PlanInputs(
        contract=contract, day=window.day, affected_days=cfg.audit.reference_days, repo_path=repo_path, read=read,
        online_code=gs.transformations.get("online"), offline_code=gs.transformations.get("offline"),
        requirements=gs.dependencies,
        feast_definitions=f"{cfg.feast.repo_path}/{cfg.feast.definitions_module}",
        feast_repo=repo_path(cfg.feast.repo_path) or cfg.feast.repo_path,
        contract_path=f"{cfg.contracts.root}/{contract.file}", models=models, approvers={str(k): v for k, v in cfg.report.approvers.items()},
        tier_overrides=cfg.audit.tiers, workspace=repo_path("workspace.yaml") or "workspace.yaml",
    )
    planned = remediation.plan(findings, inputs)
    checks = patch_checks.run(repo.resolve(), repo_path(cfg.contracts.root) or cfg.contracts.root,
                              planned["actions"], planned["patches"])
    sources = {"offline": repo_path(gs.offline.path) or gs.offline.path, "feature_view": contract.feature_view,
               "online_store": f"Feast {cfg.feast.online_store.type}",
               "logs": [f"{s.name} ({s.kind})" for s in gs.online if s.kind != "feast"],
               "offline_code": inputs.offline_code and repo_path(inputs.offline_code),
               "online_code": inputs.online_code and repo_path(inputs.online_code)}
    return {"feature_group": contract.group, "date": window.day.isoformat(),
            "findings": [f.to_dict() for f in findings], "models": model_impact["models"], **planned,
            "patch_checks": checks, "sources": sources}
