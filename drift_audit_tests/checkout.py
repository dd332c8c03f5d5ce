"""A fresh checkout of this repository (its committed HEAD), for tests that apply proposed patches."""

import os
import subprocess
from pathlib import Path

from drift_audit_tests.conftest import REPO


def fresh_checkout(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(dest)], check=True)
    return dest


def git_apply(checkout: Path, *patches: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "apply", *map(str, patches)], cwd=checkout, capture_output=True, text=True,
                          check=False, env={**os.environ, "GIT_CEILING_DIRECTORIES": str(checkout.parent)})


def buf(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    from drift_audit.stages.patch_checks import buf_binary

    return subprocess.run([buf_binary(), *args], cwd=checkout / "contracts", capture_output=True, text=True,
                          check=False)
