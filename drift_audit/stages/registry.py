"""The schema registry (a Git repository of contracts): what changed since the last seen commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drift_audit.adapters import git, protoc
from drift_audit.core.errors import ContractError


@dataclass(frozen=True)
class PollOutcome:
    commit: str | None
    message: str
    error: str | None = None
    changed_files: tuple[str, ...] = ()
    affected_groups: tuple[str, ...] = ()
    new_groups: tuple[str, ...] = field(default_factory=tuple)


def poll(root: Path, last_commit: str | None, known_groups: set[str]) -> PollOutcome:
    """Compare HEAD of the contracts folder with `last_commit`; compile only when it moved."""
    repo = git.repo_root(root)
    if repo is None:
        return PollOutcome(None, f"{root} is not inside a Git repository")
    head = git.git(["rev-parse", "--verify", "-q", "HEAD"], repo, check=False).strip() or None
    if head is None or head == last_commit:
        return PollOutcome(head, "no new commit of the contracts")
    rel = root.resolve().relative_to(repo.resolve()).as_posix() or "."
    changed = git.changed_files(repo, last_commit, head, rel) if last_commit else []
    if last_commit and not changed:
        return PollOutcome(head, f"commit {head[:12]} does not touch {rel}", affected_groups=())
    try:
        compiled = protoc.compile_contracts(_checkout(repo, head, rel, root))
    except ContractError as exc:
        return PollOutcome(head, "compile failed", error=str(exc), changed_files=tuple(changed))
    groups = {c.group: c for c in compiled.contracts}
    changed_in_root = {Path(p).relative_to(rel).as_posix() if rel != "." else p for p in changed}
    affected = sorted(g for g, c in groups.items() if not last_commit or c.file in changed_in_root
                      or "drift_audit/v1/options.proto" in changed_in_root)
    new = sorted(set(groups) - known_groups)
    return PollOutcome(head, f"{len(affected)} groups changed", changed_files=tuple(changed),
                       affected_groups=tuple(sorted(set(affected) | set(new))), new_groups=tuple(new))


def _checkout(repo: Path, commit: str, rel: str, root: Path) -> Path:
    """The contracts as committed (not the work tree): exported to a temporary folder."""
    import subprocess
    import tarfile
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="drift-audit-contracts-"))
    archive = subprocess.run(["git", "archive", "--format=tar", commit, rel], cwd=repo, capture_output=True,
                             check=True).stdout
    import io

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / rel if rel != "." else tmp
