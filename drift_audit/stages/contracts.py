"""The contract stage: pin a group's contract (`snapshot`) and check contracts before they merge (`check`)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from drift_audit.adapters import buf, git, mlflow_registry, protoc
from drift_audit.config import Config
from drift_audit.core.contract import Contract
from drift_audit.core.contract_rules import Change, Verdict, compare, lint_changes, pii_rules
from drift_audit.core.errors import ContractError, ServiceUnavailableError, UnknownFeatureGroupError
from drift_audit.core.hashing import sha256_json, sha256_text
from drift_audit.stages.registry import export, locate


def snapshot(cfg: Config, group: str) -> dict[str, Any]:
    """The group's contract compiled from the work tree (or, with `contracts.git_repo`, from the registry's
    HEAD), with the canonical descriptor set and the Git pin."""
    if cfg.contracts.git_repo:
        compiled, pin = _compile_registry_head(cfg)
        where = f"{cfg.contracts.git_repo} ({cfg.contracts.root} at {pin.commit})"
    else:
        root = cfg.path(cfg.contracts.root)
        compiled, pin, where = protoc.compile_contracts(root), git.pin(root), str(root)
    by_group = {c.group: c for c in compiled.contracts}
    if group not in by_group:
        known = ", ".join(sorted(by_group)) or "none"
        raise UnknownFeatureGroupError(f"no contract under {where} defines feature group {group!r} (found: {known})")
    cfg.group(group)  # the config must also know where the group's data is
    contract = by_group[group].to_dict()
    return {
        "feature_group": group,
        "contract": contract,
        "contract_sha256": sha256_json(contract),
        "descriptor_set_b64": base64.b64encode(compiled.descriptor_set).decode(),
        "descriptor_set_sha256": sha256_text(compiled.descriptor_set.hex()),
        "files": list(compiled.files),
        "git": {k: v for k, v in asdict(pin).items() if k != "repo"},
    }


def _compile_registry_head(cfg: Config) -> tuple[protoc.CompiledContracts, git.GitPin]:
    repo, rel = locate(cfg)
    commit = git.git(["rev-parse", "--verify", "HEAD"], repo).strip()
    with export(repo, commit, rel) as root:
        if root is None:
            raise ContractError(f"{rel} does not exist in {cfg.contracts.git_repo} at {commit}")
        try:
            compiled = protoc.compile_contracts(root)
        except ContractError as exc:
            raise ContractError(str(exc).replace(str(root), f"{cfg.contracts.git_repo}@{commit[:12]}:{rel}")) from None
    tree = git.git(["rev-parse", f"{commit}:{rel}"], repo).strip()
    return compiled, git.GitPin(str(repo), commit, tree, False, None)


def contract_of(snapshot_value: dict[str, Any]) -> Contract:
    return Contract.from_dict(snapshot_value["contract"])


@dataclass(frozen=True)
class CheckReport:
    """What `drift-audit contracts check` found; file paths in `verdict` are relative to `root`."""

    root: Path
    display_root: str  # the folder as reported: relative to the repository when in Git
    groups: tuple[str, ...]
    against: dict[str, str] | None  # {"rev": as given, "commit": resolved}
    consumers_source: str
    verdict: Verdict

    def where(self, change: Change) -> str:
        return f"{self.display_root}/{change.file}:{change.line}"

    def to_dict(self) -> dict[str, Any]:
        def item(c: Change) -> dict[str, Any]:
            return {"location": self.where(c), **c.to_dict(), "file": f"{self.display_root}/{c.file}"}

        return {"ok": not self.verdict.violations, "contracts_root": self.display_root,
                "groups": list(self.groups), "against": self.against, "consumers_source": self.consumers_source,
                "violations": [item(c) for c in self.verdict.violations],
                "notices": [item(c) for c in self.verdict.notices]}


def check(root: Path, against: str | None, cfg: Config | None) -> CheckReport:
    """Compile, buf lint, then (with `against`) buf breaking and our version rules against that revision."""
    compiled = protoc.compile_contracts(root)
    texts = {f: (root / f).read_text(errors="replace") for f in compiled.files}
    lint = lint_changes([_change(i) for i in buf.lint(root)])
    pii = pii_rules(compiled.contracts, texts)
    repo = git.repo_root(root)
    rel = root.resolve().relative_to(repo.resolve()).as_posix() if repo else ""
    display = rel if repo else str(root)
    groups = tuple(c.group for c in compiled.contracts)
    if against is None:
        return CheckReport(root, display, groups, None, "not needed without --against",
                           Verdict(tuple(lint + pii), ()))
    if repo is None:
        raise ContractError(f"--against {against}: {root} is not inside a Git repository")
    commit = git.git(["rev-parse", "--verify", "-q", f"{against}^{{commit}}"], repo, check=False).strip()
    if not commit:
        raise ContractError(f"--against {against}: not a commit of the Git repository {repo}")
    with export(repo, commit, rel) as old_root:
        if old_root is None:
            old: Sequence[Contract] = ()
            breaking: list[Change] = []
        else:
            try:
                old = protoc.compile_contracts(old_root).contracts
            except ContractError as exc:
                raise ContractError(f"the contracts at {against} ({commit[:12]}) do not compile: "
                                    f"{str(exc).replace(str(old_root), rel or '.')}") from None
            git_dir = repo / ".git" if (repo / ".git").exists() else repo
            breaking = [_change(i) for i in buf.breaking(root, git_dir, commit, rel)]
    models, source, detail = consumers(cfg, old)
    verdict = compare(old, compiled.contracts, breaking, models, source, texts, against)
    return CheckReport(root, display, groups, {"rev": against, "commit": commit}, detail,
                       Verdict(tuple(lint + pii) + verdict.violations, verdict.notices))


def _change(issue: buf.BufIssue) -> Change:
    return Change(issue.path, issue.line, issue.rule, issue.message)


def consumers(cfg: Config | None, contracts: Sequence[Contract]
              ) -> tuple[Mapping[str, Sequence[str]], str, str]:
    """Which models consume which features ({model: [group.feature | group.*]}), the source and why.

    The MLflow registry's `drift_audit.features` tags when MLflow is configured and readable; otherwise
    the contracts' own `consuming_models` (each listed model consumes the whole group).
    """
    reason = "no drift_audit.yaml"
    if cfg is not None:
        uri = mlflow_registry.resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir))
        reason = _unreadable(uri)
        if not reason:
            try:
                records = mlflow_registry.read_models(uri)
                return ({r.name: r.features for r in records}, "MLflow registry",
                        f"MLflow registry {uri} ({len(records)} model(s) tagged drift_audit.features)")
            except ServiceUnavailableError as exc:
                reason = str(exc)
    by_model: dict[str, list[str]] = {}
    for c in contracts:
        for model in c.consuming_models:
            by_model.setdefault(model, []).append(f"{c.group}.*")
    return (by_model, "contract consuming_models",
            f"the contracts' consuming_models (MLflow registry not available: {reason})")


def _unreadable(uri: str) -> str:
    """Why a local MLflow store cannot be read without creating it ("" when it can be tried)."""
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        return "" if path.is_file() else f"{path} does not exist"
    if uri.startswith("file:"):
        path = Path(uri.removeprefix("file://"))
        return "" if path.is_dir() else f"{path} does not exist"
    return ""
