"""Contract updates as patches on a fresh checkout: they apply, compile, pass buf lint, and carry the
version bump; a breaking retype goes through a deprecation window before the MAJOR removal."""

import shutil
from datetime import date

import pytest

from drift_audit.adapters.protoc import compile_contracts
from drift_audit.core import remediation
from drift_audit.core.findings import Finding
from drift_audit.core.impact import ModelStatus
from drift_audit_tests.checkout import buf, fresh_checkout, git_apply

CHURN = ModelStatus("churn_model", 1, 2, "crm-ml-lead@example.com", "auc", ("customer_profile.*",), 0.8, 0.79,
                    0.01, 0.01, False)


@pytest.fixture()
def checkout(tmp_path):
    return fresh_checkout(tmp_path / "repo")


def _plan(checkout, finding: Finding):
    contract = next(c for c in compile_contracts(checkout / "contracts").contracts if c.group == finding.feature_group)

    def read(rel):
        path = checkout / rel
        return path.read_text() if rel and path.is_file() else None

    inputs = remediation.PlanInputs(
        contract=contract, day=date(2026, 10, 21), affected_days=3, repo_path=lambda p: p, read=read,
        contract_path=f"contracts/{contract.file}", feast_definitions="demo/feature_repo/features.py",
        feast_repo="demo/feature_repo", models=[CHURN])
    return contract, remediation.plan([finding.with_(impacted_models=("churn_model@v1",))], inputs)


def _write(tmp_path, plan):
    out = {}
    for name, text in plan["patches"].items():
        out[name] = tmp_path / name
        out[name].write_text(text)
    return out


def _profile(checkout):
    return next(c for c in compile_contracts(checkout / "contracts").contracts if c.group == "customer_profile")


def test_breaking_retype_goes_through_a_deprecation_window(checkout, tmp_path):
    finding = Finding("customer_profile", "credit_score", "type_mismatch", "high",
                      {"contract_type": "int32", "observed_type": "float64", "non_integral_values": 37,
                       "side": "offline"}, "contract_diff")
    _, plan = _plan(checkout, finding)
    (action,) = plan["actions"]
    assert action["type"] == "contract_update" and action["breaking"] is True
    assert {p["role"] for p in action["approvals"]} >= {"feature owner", "data governance"}
    cc = action["contract_change"]
    assert (cc["from_version"], cc["to_version"], cc["deprecation_window"]) == ("2.1.0", "2.2.0", "30d")
    assert any("credit_score_v3" in m for m in cc["migration"])
    files = _write(tmp_path, plan)
    step1, step2 = (files[action["patch"].removeprefix("patches/")],
                    files[action["follow_up_patch"].removeprefix("patches/")])
    original = tmp_path / "original"
    shutil.copytree(checkout / "contracts", original)

    applied = git_apply(checkout, step1)
    assert applied.returncode == 0, applied.stderr
    c = _profile(checkout)
    assert c.version == "2.2.0" and c.deprecation_window == "30d"
    assert c.feature("credit_score").type == "int32" and c.feature("credit_score_v3").type == "float64"
    assert buf(checkout, "lint").returncode == 0
    compatible = buf(checkout, "breaking", "--against", str(original))
    assert compatible.returncode == 0, compatible.stdout  # step 1 breaks nobody
    assert 'Field(name="credit_score_v3", dtype=Float64)' in (checkout / "demo/feature_repo/features.py").read_text()

    applied = git_apply(checkout, step2)
    assert applied.returncode == 0, applied.stderr
    c = _profile(checkout)
    assert c.version == "3.0.0" and "credit_score" not in c.feature_names and c.deprecation_window == "30d"
    assert buf(checkout, "lint").returncode == 0
    breaking = buf(checkout, "breaking", "--against", str(original))
    assert breaking.returncode != 0 and "credit_score" in breaking.stdout  # the MAJOR step is the breaking one


def test_new_allowed_value_is_a_minor_compatible_patch(checkout, tmp_path):
    finding = Finding("customer_profile", "loyalty_tier", "allowed_value_drift", "high",
                      {"examples": [{"value": "platinum", "count": 135}], "share": 0.03, "side": "online_store"},
                      "contract_diff")
    _, plan = _plan(checkout, finding)
    (action,) = plan["actions"]
    assert action["type"] == "contract_update" and action["breaking"] is False
    assert action["contract_change"]["to_version"] == "2.2.0" and action["follow_up_patch"] is None
    (patch,) = _write(tmp_path, plan).values()
    assert git_apply(checkout, patch).returncode == 0
    c = _profile(checkout)
    assert c.version == "2.2.0" and "platinum" in c.feature("loyalty_tier").allowed_values
    assert buf(checkout, "lint").returncode == 0


def test_missing_default_gets_a_default_in_the_contract(checkout, tmp_path):
    finding = Finding("customer_profile", "tenure_days", "missing_default", "medium", {}, "contract_diff")
    _, plan = _plan(checkout, finding)
    (patch,) = _write(tmp_path, plan).values()
    assert git_apply(checkout, patch).returncode == 0
    c = _profile(checkout)
    assert c.feature("tenure_days").default_value == "0" and c.version == "2.2.0"
