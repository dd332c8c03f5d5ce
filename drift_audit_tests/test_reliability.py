"""Faults and determinism over the demo: a killed run leaves nothing partial; reruns are byte-identical."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drift_audit.config import load_config
from drift_audit.demo.generate import DemoSpec
from drift_audit.storage import TMP_PREFIX
from drift_audit_tests.conftest import REPO

pytestmark = pytest.mark.e2e
DAY = DemoSpec().audit_day.isoformat()
DELIVERABLES = ("findings.json", "report.md")


def _second_config(demo_config: Path, tmp: Path, name: str) -> Path:
    """The same demo data, audited into another output folder (config beside the first: same base folder)."""
    text = demo_config.read_text()
    out = load_config(demo_config).output_root
    text = text.replace(f"output_dir: {out}", f"output_dir: {tmp / name}")
    text = text.replace("allowed_roots: [", f"allowed_roots: ['{tmp}', ")
    path = demo_config.parent / f"{name}-{tmp.name}.yaml"
    path.write_text(text)
    return path


def _cli(config: Path, home: Path, *args: str, **kw) -> subprocess.Popen:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "drift_audit.cli", "--config", str(config), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


def _deliverables(folder: Path) -> dict[str, bytes]:
    files = {name: (folder / name).read_bytes() for name in DELIVERABLES}
    for patch in sorted((folder / "patches").glob("*.patch")) if (folder / "patches").exists() else []:
        files[f"patches/{patch.name}"] = patch.read_bytes()
    return files


def test_two_demo_audits_are_byte_identical(audited_demo, tmp_path):
    cfg2 = _second_config(audited_demo["config_path"], tmp_path, "out2")
    proc = _cli(cfg2, tmp_path / "home2", "audit", "--date", DAY)
    output, _ = proc.communicate(timeout=1800)
    assert proc.returncode == 0, output
    for run in audited_demo["runs"]:
        again = load_config(cfg2).output_root / DAY / run.group
        assert _deliverables(Path(run.report_dir)) == _deliverables(again), run.group


def test_sigkill_mid_materialization_leaves_nothing_partial_and_rerun_matches(audited_demo, tmp_path):
    cfg = _second_config(audited_demo["config_path"], tmp_path, "killed")
    out = load_config(cfg).output_root
    home = tmp_path / "home"
    proc = _cli(cfg, home, "audit", "--date", DAY, "--groups", "transactions")
    deadline = time.time() + 600
    while time.time() < deadline and not (out / "_assets" / "drift_deltas").exists():
        if proc.poll() is not None:
            pytest.fail(f"run ended before it could be killed: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # Every visible artifact is complete: JSON outputs parse, samples have metadata and data.
    for asset_dir in (out / "_assets").iterdir():
        for final in asset_dir.glob(f"{DAY}/*"):
            if final.name.startswith(TMP_PREFIX):
                continue
            assert (final / "value.json").is_file() or ((final / "meta.json").is_file() and (final / "data").is_dir())
    assert not (out / DAY / "transactions" / "findings.json").exists()
    rerun = _cli(cfg, home, "audit", "--date", DAY, "--groups", "transactions")
    output, _ = rerun.communicate(timeout=1800)
    assert rerun.returncode == 0, output
    reference = next(r for r in audited_demo["runs"] if r.group == "transactions")
    assert _deliverables(out / DAY / "transactions") == _deliverables(Path(reference.report_dir))
