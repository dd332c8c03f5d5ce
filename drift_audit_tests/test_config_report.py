"""The `report:` section of drift_audit.yaml (docs/configuration.md)."""

import pytest

from drift_audit.config import load_config
from drift_audit.core.errors import ConfigError
from drift_audit_tests.conftest import write_demo_config


def test_defaults_are_off(tmp_path):
    cfg = load_config(write_demo_config(tmp_path))
    assert cfg.report.mlflow_runs is False and cfg.report.approvers == {}


def test_report_section_validates(tmp_path):
    path = write_demo_config(tmp_path)
    path.write_text(path.read_text() + "report:\n  mlflow_runs: true\n  approvers:\n    privacy: dpo@example.com\n")
    cfg = load_config(path)
    assert cfg.report.mlflow_runs and cfg.report.approvers == {"privacy": "dpo@example.com"}
    path.write_text(path.read_text().replace("privacy:", "legal:"))
    with pytest.raises(ConfigError, match=r"report\.approvers"):
        load_config(path)
