"""buf (the `buf-bin` wheel) behind our interface: lint a contracts folder, check it for breaking changes.

buf reads `buf.yaml` in the contracts folder; `breaking` compares against a Git revision through buf's
own Git input (`<repo>#ref=<commit>,subdir=<folder>`), which works offline on a local repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from drift_audit.core.errors import ContractError

_VIOLATIONS = 100  # buf's exit code when it found lint or breaking violations


@dataclass(frozen=True)
class BufIssue:
    path: str  # relative to the contracts folder
    line: int
    column: int
    rule: str  # buf's rule id, e.g. FIELD_SAME_TYPE
    message: str


def executable() -> str:
    """The buf next to this interpreter (the venv's `buf-bin`), else the one on PATH."""
    local = Path(sys.executable).parent / "buf"
    found = str(local) if local.is_file() else shutil.which("buf")
    if not found:
        raise ContractError("buf not found next to the Python interpreter or on PATH (install the buf-bin wheel)")
    return found


def _run(root: Path, args: list[str]) -> list[BufIssue]:
    if not (root / "buf.yaml").is_file():
        raise ContractError(f"{root / 'buf.yaml'}: not found (buf lint and buf breaking read their rules there)")
    proc = subprocess.run([executable(), *args, "--error-format=json"], cwd=root, capture_output=True, text=True,
                          check=False)
    if proc.returncode not in (0, _VIOLATIONS):
        raise ContractError(f"buf {args[0]} failed in {root}: {_last_line(proc.stderr or proc.stdout)}")
    issues = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        issues.append(BufIssue(item.get("path", ""), int(item.get("start_line", 0) or 0),
                               int(item.get("start_column", 0) or 0), item.get("type", ""), item.get("message", "")))
    if proc.returncode == _VIOLATIONS and not issues:
        raise ContractError(f"buf {args[0]} failed in {root}: {_last_line(proc.stderr)}")
    return sorted(issues, key=lambda i: (i.path, i.line, i.column, i.rule))


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def lint(root: Path) -> list[BufIssue]:
    """`buf lint` of the folder with its buf.yaml."""
    return _run(root, ["lint"])


def breaking(root: Path, git_dir: Path, commit: str, subdir: str) -> list[BufIssue]:
    """`buf breaking` of the folder against `subdir` of the repository at `commit` (a full hash)."""
    against = f"{git_dir.resolve()}#ref={commit}" + (f",subdir={subdir}" if subdir not in ("", ".") else "")
    return _run(root, ["breaking", "--against", against])
