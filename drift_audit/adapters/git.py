"""Git for contract pinning: the commit of the contracts folder and whether the work tree is dirty."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from drift_audit.core.hashing import sha256_text


@dataclass(frozen=True)
class GitPin:
    repo: str | None  # work-tree root, None when the folder is not in a Git repository
    commit: str | None  # HEAD commit (of the repository holding the contracts)
    tree: str | None  # tree hash of the contracts folder at HEAD
    dirty: bool  # uncommitted changes (or untracked files) under the contracts folder
    dirty_sha256: str | None  # hash of `git diff HEAD` + untracked files of the folder, when dirty


def git(args: list[str], cwd: Path, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout


def repo_root(path: Path) -> Path | None:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True,
                          check=False)
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


def pin(folder: Path) -> GitPin:
    root = repo_root(folder)
    if root is None:
        return GitPin(None, None, None, True, None)
    rel = folder.resolve().relative_to(root.resolve()).as_posix() or "."
    head = git(["rev-parse", "--verify", "-q", "HEAD"], root, check=False).strip() or None
    tree = git(["rev-parse", f"HEAD:{rel}"], root, check=False).strip() or None if head else None
    diff = git(["diff", "HEAD", "--binary", "--", rel], root, check=False) if head else ""
    untracked = git(["ls-files", "--others", "--exclude-standard", "--", rel], root).split()
    content = diff + "".join(f"\n{p}\n" + (root / p).read_text(errors="replace") for p in sorted(untracked))
    dirty = bool(content) or head is None
    return GitPin(str(root), head, tree, dirty, sha256_text(content) if dirty else None)


def changed_files(root: Path, old: str, new: str, rel: str) -> list[str]:
    return sorted(git(["diff", "--name-only", old, new, "--", rel], root).split())


def show(root: Path, rev: str, path: str) -> str:
    return git(["show", f"{rev}:{path}"], root)
