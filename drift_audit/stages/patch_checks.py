"""The checks the audit runs on its own patches, in a scratch copy: apply, compile, lint.

Each patch is applied with `git apply` to a copy of the files it touches (the whole contracts folder for a
contract patch); Python files must then compile, contracts must compile with protoc and pass `buf lint`.
A follow-up patch (the step after a deprecation window) is applied on top of its first step.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drift_audit.adapters.protoc import compile_contracts
from drift_audit.core.errors import ContractError

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"


def touched(diff: str) -> list[str]:
    return sorted(set(re.findall(r"^diff --git a/(\S+) b/", diff, re.M)))


def buf_binary() -> str:
    local = Path(sys.executable).parent / "buf"
    return str(local) if local.is_file() else (shutil.which("buf") or "buf")


def run(repo: Path, contracts_rel: str, actions: Sequence[Mapping[str, Any]], texts: Mapping[str, str]
        ) -> dict[str, dict[str, str]]:
    """{patch name: {check: pass|fail|skipped, "detail": first error}} for every patch of the plan."""
    out: dict[str, dict[str, str]] = {}
    for a in actions:
        chain = [p.removeprefix("patches/") for p in (a.get("patch"), a.get("follow_up_patch")) if p]
        if not chain:
            continue
        with tempfile.TemporaryDirectory(prefix="drift-audit-patch-") as tmp:
            scratch = Path(tmp) / "checkout"
            scratch.mkdir()
            for rel in sorted({r for name in chain for r in touched(texts[name])}):
                _copy(repo, scratch, contracts_rel if rel.startswith(f"{contracts_rel}/") else rel)
            failed = False
            for name in chain:
                out[name] = {"patch_applies": SKIPPED} if failed else _check(scratch, contracts_rel, name, texts[name])
                failed = failed or out[name]["patch_applies"] != PASS
    return out


def _copy(repo: Path, scratch: Path, rel: str) -> None:
    src, dst = repo / rel, scratch / rel
    if dst.exists() or not src.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst) if src.is_dir() else shutil.copy2(src, dst)


def _check(scratch: Path, contracts_rel: str, name: str, diff: str) -> dict[str, str]:
    patch = scratch.parent / name
    patch.write_text(diff, encoding="utf-8")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(scratch.parent)}  # never find an enclosing repository
    proc = subprocess.run(["git", "apply", "--whitespace=nowarn", str(patch)], cwd=scratch, capture_output=True,
                          text=True, check=False, env=env)
    if proc.returncode != 0:
        return {"patch_applies": FAIL, "detail": _clean(proc.stderr, scratch)}
    result = {"patch_applies": PASS}
    files = touched(diff)
    py = [f for f in files if f.endswith(".py")]
    if py:
        result["code_compiles"] = PASS
        for f in py:
            try:
                compile((scratch / f).read_text(encoding="utf-8"), f, "exec")
            except SyntaxError as exc:
                result.update(code_compiles=FAIL, detail=f"{f}:{exc.lineno}: {exc.msg}")
    if any(f.endswith(".proto") for f in files):
        root = scratch / contracts_rel
        try:
            compile_contracts(root)
            result["contract_compiles"] = PASS
        except ContractError as exc:
            result.update(contract_compiles=FAIL, detail=_clean(str(exc), scratch))
        try:
            lint = subprocess.run([buf_binary(), "lint"], cwd=root, capture_output=True, text=True, check=False)
        except OSError as exc:
            result.update(buf_lint=SKIPPED, detail=f"buf could not run: {exc.strerror}")
        else:
            result["buf_lint"] = PASS if lint.returncode == 0 else FAIL
            if lint.returncode != 0:
                result.setdefault("detail", _clean(lint.stdout + lint.stderr, scratch))
    return result


def _clean(text: str, scratch: Path) -> str:
    """First line of a tool's error, without the scratch folder's (random) path."""
    lines = [ln for ln in text.replace(str(scratch.resolve()), "<checkout>").replace(str(scratch), "<checkout>")
             .splitlines() if ln.strip()]
    return lines[0][:300] if lines else "no output"
