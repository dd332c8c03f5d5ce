"""A real temporary Git repository of contracts that tests edit and commit to."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from drift_audit_tests.conftest import REPO

CONTRACTS = REPO / "contracts"
PROFILE = "features/customer_profile/v1/customer_profile.proto"


class ContractRepo:
    """`<tmp>/registry` with `contracts/` holding buf.yaml, our options and the chosen demo contracts."""

    def __init__(self, tmp: Path, groups: tuple[str, ...] = ("customer_profile",)) -> None:
        self.path = tmp / "registry"
        self.root = self.path / "contracts"
        (self.root / "drift_audit/v1").mkdir(parents=True)
        shutil.copy(CONTRACTS / "buf.yaml", self.root / "buf.yaml")
        shutil.copy(CONTRACTS / "drift_audit/v1/options.proto", self.root / "drift_audit/v1/options.proto")
        for group in groups:
            shutil.copytree(CONTRACTS / "features" / group, self.root / "features" / group)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "tests@example.com")
        self.git("config", "user.name", "tests")
        self.git("config", "commit.gpgsign", "false")
        self.commit("initial contracts")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True).stdout

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def read(self, rel: str = PROFILE) -> str:
        return (self.root / rel).read_text()

    def write(self, text: str, rel: str = PROFILE) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_text(text)

    def edit(self, old: str, new: str, rel: str = PROFILE) -> None:
        """Replace `old` (which must occur exactly once) by `new`."""
        text = self.read(rel)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
        self.write(text.replace(old, new), rel)

    def line_of(self, needle: str, rel: str = PROFILE) -> int:
        """1-based line of the single line containing `needle`."""
        lines = [i for i, ln in enumerate(self.read(rel).splitlines(), 1) if needle in ln]
        assert len(lines) == 1, f"{needle!r} on lines {lines}"
        return lines[0]
