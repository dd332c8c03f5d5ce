"""End to end over the demo: every injected defect is found by kind and feature; clean features are not."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drift_audit.demo.generate import CLEAN, INJECTED
from drift_audit_tests.conftest import REPO

pytestmark = pytest.mark.e2e


def _findings(audited_demo):
    out = []
    for run in audited_demo["runs"]:
        assert run.success, f"{run.group}: {run.error}"
        out += json.loads((Path(run.report_dir) / "findings.json").read_text())
    return out


def test_every_partition_writes_findings_and_report(audited_demo):
    assert len(audited_demo["runs"]) == 4
    for run in audited_demo["runs"]:
        folder = Path(run.report_dir)
        report = (folder / "report.md").read_text()
        assert report.startswith(f"# Drift audit — {run.group} — 2026-10-21")
        findings = json.loads((folder / "findings.json").read_text())
        assert isinstance(findings, list)
        for f in findings:
            assert {"feature_group", "feature", "kind", "severity", "evidence", "detected_by"} <= set(f)


@pytest.mark.parametrize(("group", "feature", "kind"), INJECTED)
def test_injected_defect_is_found(audited_demo, group, feature, kind):
    found = {(f["feature_group"], f["feature"], f["kind"]) for f in _findings(audited_demo)}
    assert (group, feature, kind) in found


def test_no_clean_feature_is_flagged(audited_demo):
    clean = set(CLEAN)
    flagged = [(f["feature_group"], f["feature"], f["kind"]) for f in _findings(audited_demo)
               if (f["feature_group"], f["feature"]) in clean]
    assert flagged == []


def test_defects_carry_impacted_models_and_regression(audited_demo):
    by_id = {f["id"]: f for f in _findings(audited_demo)}
    unit = by_id["transactions.txn_amount_usd.unit_mismatch"]
    assert unit["impacted_models"] == ["fraud_detector@v1"] and unit["contemporaneous_regression"] is True
    assert unit["evidence"]["factor"] == 100.0
    tz = by_id["transactions.last_txn_hour.timezone_mismatch"]
    assert tz["evidence"]["shift"] == -4
    device = by_id["engagement.preferred_device.missing_online"]
    assert device["impacted_models"] == ["recommender@v1"] and device["contemporaneous_regression"] is False


def test_definitions_validate():
    proc = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w",
                           "workspace.yaml"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
