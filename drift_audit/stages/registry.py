"""The schema registry (a Git repository of contracts): what changed since the last commit the sensor saw.

The registry is the Git work tree holding `contracts.root`, or, when `contracts.git_repo` names a path or
URL, a mirror of that repository kept under `<output_dir>/_registry/` (then `contracts.root` is the
folder inside it). Contracts are always read as committed (`git archive`), never from a work tree.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from drift_audit.adapters import git, protoc
from drift_audit.config import Config
from drift_audit.core.errors import ConfigError, ContractError, ServiceUnavailableError
from drift_audit.core.hashing import sha256_text

# a change to these (relative to the contracts folder) affects every group
SHARED_FILES = ("drift_audit/v1/options.proto", "buf.yaml")


@dataclass(frozen=True)
class Cursor:
    """The sensor's cursor: the last commit seen, the last one that compiled, and its error if it did not."""

    commit: str | None = None
    good: str | None = None
    error: str | None = None

    @staticmethod
    def parse(text: str | None) -> Cursor:
        data = json.loads(text) if text else {}
        return Cursor(data.get("commit"), data.get("good", data.get("commit")), data.get("error"))

    def dumps(self) -> str:
        return json.dumps({"commit": self.commit, "good": self.good, "error": self.error}, sort_keys=True)


@dataclass(frozen=True)
class PollOutcome:
    cursor: Cursor  # the cursor after this poll
    message: str
    changed: bool = False  # a new commit was seen (the cursor moved)
    changed_files: tuple[str, ...] = ()  # repository-relative
    affected_groups: tuple[str, ...] = ()  # groups to audit: changed or new
    new_groups: tuple[str, ...] = ()  # groups not yet registered as partitions

    @property
    def error(self) -> str | None:
        return self.cursor.error if self.changed else None


def locate(cfg: Config) -> tuple[Path, str]:
    """(Git repository, contracts folder inside it) of the configured registry."""
    if cfg.contracts.git_repo:
        rel = PurePosixPath(cfg.contracts.root)
        if rel.is_absolute() or ".." in rel.parts:
            raise ConfigError(f"contracts.root {cfg.contracts.root!r} must be a folder inside contracts.git_repo")
        return mirror(cfg.contracts.git_repo, cfg.output_root / "_registry"), rel.as_posix()
    root = cfg.path(cfg.contracts.root)
    repo = git.repo_root(root) if root.is_dir() else None
    if repo is None:
        raise ConfigError(f"contracts.root {root} is not a folder inside a Git repository (the schema registry)")
    return repo, root.resolve().relative_to(repo.resolve()).as_posix()


def mirror(remote: str, cache: Path) -> Path:
    """A bare mirror of `remote` (path or URL) under `cache`, fetched now."""
    target = cache / f"{sha256_text(remote)[:16]}.git"
    if (target / "HEAD").is_file():
        args, cwd = ["remote", "update", "--prune"], target
    else:
        cache.mkdir(parents=True, exist_ok=True)
        args, cwd = ["clone", "--mirror", "--quiet", remote, str(target)], cache
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ServiceUnavailableError(f"schema registry {remote} could not be fetched: {proc.stderr.strip()}")
    return target


@contextmanager
def export(repo: Path, commit: str, rel: str) -> Iterator[Path | None]:
    """The folder `rel` as committed at `commit`, in a temporary folder (None when it did not exist)."""
    spec = f"{commit}:{rel}" if rel not in ("", ".") else commit
    if git.git(["cat-file", "-t", spec], repo, check=False).strip() != "tree":
        yield None
        return
    archive = subprocess.run(["git", "archive", "--format=tar", spec], cwd=repo, capture_output=True,
                             check=True).stdout
    with tempfile.TemporaryDirectory(prefix="drift-audit-contracts-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def poll(repo: Path, rel: str, cursor: Cursor, known_groups: set[str]) -> PollOutcome:
    """Compare HEAD with the cursor; compile only when HEAD moved. Changes are taken since the last commit
    that compiled, so a fix after a broken commit audits everything the two commits touched."""
    head = git.git(["rev-parse", "--verify", "-q", "HEAD"], repo, check=False).strip() or None
    if head is None:
        return PollOutcome(cursor, f"the registry {repo} has no commits yet")
    if head == cursor.commit:
        still = f"; contracts at {head[:12]} do not compile: {cursor.error}" if cursor.error else ""
        return PollOutcome(cursor, f"no new commit of the contracts (at {head[:12]}){still}")
    base = cursor.good
    folder = rel if rel not in ("", ".") else "."
    if base:
        changed = git.changed_files(repo, base, head, folder)
    else:
        changed = sorted(git.git(["ls-tree", "-r", "--name-only", head, "--", folder], repo).split())
    if base and not changed:
        return PollOutcome(Cursor(head, head), f"commit {head[:12]} does not touch {folder}", changed=True)
    with export(repo, head, rel) as root:
        try:
            if root is None:
                raise ContractError(f"{folder} does not exist at commit {head[:12]}")
            compiled = protoc.compile_contracts(root)
        except ContractError as exc:
            error = str(exc).replace(str(root), folder) if root else str(exc)
            return PollOutcome(Cursor(head, base, error), f"contracts at {head[:12]} do not compile: {error}",
                               changed=True, changed_files=tuple(changed))
    inside = {_inside(p, rel) for p in changed}
    shared = bool(inside & set(SHARED_FILES))
    groups = {c.group: c for c in compiled.contracts}
    new = sorted(set(groups) - known_groups)
    affected = sorted({g for g, c in groups.items() if not base or shared or c.file in inside} | set(new))
    return PollOutcome(Cursor(head, head), f"commit {head[:12]}: {len(affected)} feature group(s) to audit",
                       changed=True, changed_files=tuple(changed), affected_groups=tuple(affected),
                       new_groups=tuple(new))


def _inside(path: str, rel: str) -> str:
    return path if rel in ("", ".") else PurePosixPath(path).relative_to(rel).as_posix()
