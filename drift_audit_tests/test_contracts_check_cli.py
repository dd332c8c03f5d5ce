"""`drift-audit contracts check` over pairs of real contracts in a temporary Git repository.

Each case edits the demo's customer_profile contract, runs real protoc and buf through the CLI against
the committed version, and checks the verdict: exit code and the rules that fired, at the right line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drift_audit.cli import main
from drift_audit.core import patches
from drift_audit_tests.contract_repo import ContractRepo

MINOR = ('version: "2.1.0"', 'version: "2.2.0"')
MAJOR = ('version: "2.1.0"', 'version: "3.0.0"\n    deprecation_window: "30d"')


def write_config(tmp: Path, tracking_uri: str) -> Path:
    path = tmp / "drift_audit.yaml"
    path.write_text(f"""
contracts: {{root: registry/contracts}}
feast: {{repo_path: ., project: p, registry: registry.db}}
mlflow: {{tracking_uri: "{tracking_uri}"}}
groups: {{customer_profile: {{offline: {{path: data}}, online: [{{name: online_store, kind: feast}}]}}}}
""")
    return path


@pytest.fixture()
def repo(tmp_path: Path) -> ContractRepo:
    return ContractRepo(tmp_path)


@pytest.fixture()
def check(repo: ContractRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Run the CLI with a config whose MLflow store does not exist (so consumers come from the contract)."""
    config = write_config(tmp_path, "sqlite:///no-such/mlflow.db")

    def run(*args: str, config_path: Path = config) -> tuple[int, dict]:
        capsys.readouterr()
        code = main(["--config", str(config_path), "contracts", "check", "--json", *args])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else {}

    return run


def rules(result: dict) -> set[str]:
    return {v["rule"] for v in result["violations"]}


def at(result: dict, rule: str) -> list[dict]:
    return [v for v in result["violations"] if v["rule"] == rule]


def test_unchanged_contracts_pass(check):
    code, result = check("--against", "HEAD")
    assert (code, result["violations"], result["ok"]) == (0, [], True)
    assert result["groups"] == ["customer_profile"]
    assert result["consumers_source"].startswith("the contracts' consuming_models (MLflow registry not available")


def test_added_field_with_minor_bump_passes(repo, check):
    repo.edit("  int32 credit_score = 9", "  int64 days_since_signup = 10;\n  int32 credit_score = 9")
    repo.edit(*MINOR)
    code, result = check("--against", "HEAD")
    assert (code, result["violations"], result["notices"]) == (0, [], [])


def test_added_field_without_bump_passes_with_a_notice(repo, check):
    repo.edit("  int32 credit_score = 9", "  int64 days_since_signup = 10;\n  int32 credit_score = 9")
    code, result = check("--against", "HEAD")
    assert code == 0
    assert [n["rule"] for n in result["notices"]] == ["changed-without-bump"]


def test_removed_field_is_breaking_consumed_and_unreserved(repo, check):
    removed_at = repo.line_of("int64 tenure_days = 6")
    repo.edit('  int64 tenure_days = 6 [(drift_audit.v1.feature) = {\n    unit: "days"\n    min: 0\n  }];\n', "")
    code, result = check("--against", "HEAD")
    assert code == 1
    assert {"buf:FIELD_NO_DELETE", "consumed-feature-removed", "removed-field-not-reserved"} <= rules(result)
    consumed = at(result, "consumed-feature-removed")[0]
    assert "churn_model" in consumed["message"] and "per contract consuming_models" in consumed["message"]
    assert f"customer_profile.proto:{removed_at} at HEAD" in consumed["message"]
    assert at(result, "removed-field-not-reserved")[0]["fix"] == \
        'add reserved 6; and reserved "tenure_days"; to message CustomerProfile'


def test_removed_unconsumed_field_with_major_bump_window_and_reservation_passes(repo, check):
    repo.edit('    consuming_models: "churn_model"\n', "")
    repo.commit("no consumers")
    repo.edit('  int64 tenure_days = 6 [(drift_audit.v1.feature) = {\n    unit: "days"\n    min: 0\n  }];\n',
              '  reserved 6;\n  reserved "tenure_days";\n')
    repo.edit(*MAJOR)
    code, result = check("--against", "HEAD")
    assert (code, result["violations"]) == (0, [])
    accepted = [n for n in result["notices"] if n["rule"] == "buf:FIELD_NO_DELETE"]
    assert accepted and "accepted: MAJOR bump 2.1.0 → 3.0.0, deprecation window 30d" in accepted[0]["message"]


def test_major_bump_without_deprecation_window_is_flagged(repo, check):
    repo.edit('    consuming_models: "churn_model"\n', "")
    repo.commit("no consumers")
    repo.edit("  int32 age = 4", "  int64 age = 4")
    repo.edit('version: "2.1.0"', 'version: "3.0.0"')
    code, result = check("--against", "HEAD")
    assert code == 1
    assert rules(result) == {"deprecation-window"}
    assert at(result, "deprecation-window")[0]["line"] == repo.line_of('version: "3.0.0"')


def test_type_change_is_breaking_and_names_the_consuming_model(repo, check):
    repo.edit("  int32 age = 4", "  int64 age = 4")
    code, result = check("--against", "HEAD")
    assert code == 1
    assert {"buf:FIELD_SAME_TYPE", "consumed-feature-retyped"} <= rules(result)
    retyped = at(result, "consumed-feature-retyped")[0]
    assert retyped["line"] == repo.line_of("int64 age = 4")
    assert "changed type from int32 to int64" in retyped["message"] and "churn_model" in retyped["message"]


def test_renamed_field_is_breaking_and_a_removal_for_consumers(repo, check):
    repo.edit("  int32 credit_score = 9", "  int32 credit_points = 9")
    code, result = check("--against", "HEAD")
    assert code == 1
    assert {"buf:FIELD_SAME_NAME", "consumed-feature-removed", "removed-field-not-reserved"} <= rules(result)
    assert at(result, "removed-field-not-reserved")[0]["fix"] == \
        'add reserved "credit_score"; to message CustomerProfile'  # the number is still in use


def test_enum_value_removed_is_breaking_on_the_wire_and_for_serving(repo, check):
    repo.edit("  LOYALTY_TIER_GOLD = 3;\n", "")
    code, result = check("--against", "HEAD")
    assert code == 1
    assert {"buf:ENUM_VALUE_NO_DELETE", "allowed-values-narrowed"} <= rules(result)
    assert "no longer allows ['gold']" in at(result, "allowed-values-narrowed")[0]["message"]


def test_reserved_number_reused_is_unusable_input_with_file_and_line(repo, check, capsys):
    repo.edit("  int32 credit_score = 9", "  reserved 12;\n  int32 credit_score = 9")
    repo.commit("reserve 12")
    repo.edit("  int32 credit_score = 9", "  int64 lifetime_value = 12;\n  int32 credit_score = 9")
    code = main(["contracts", "check", "--root", str(repo.root), "--against", "HEAD"])
    err = capsys.readouterr().err
    assert code == 2
    line = repo.line_of("reserved 12;")  # protoc points at the reservation the field collides with
    assert err.strip().endswith(f"customer_profile.proto:{line}: Field \"lifetime_value\" uses reserved number 12.")


def test_reserved_statement_deleted_is_breaking(repo, check):
    repo.edit("  int32 credit_score = 9", '  reserved 12;\n  reserved "legacy_score";\n  int32 credit_score = 9')
    repo.commit("reserve 12")
    repo.edit('  reserved 12;\n  reserved "legacy_score";\n', "")
    code, result = check("--against", "HEAD")
    assert code == 1
    assert "buf:RESERVED_MESSAGE_NO_DELETE" in rules(result)


def test_pii_without_tokenization_is_flagged_even_without_against(repo, check):
    repo.edit('    tokenization: "sha256"\n', "")
    code, result = check()
    assert code == 1
    assert rules(result) == {"pii-tokenization"}
    v = at(result, "pii-tokenization")[0]
    assert v["line"] == repo.line_of('pii_class: "EMAIL"') and v["feature"] == "email"
    assert v["location"] == f"contracts/features/customer_profile/v1/customer_profile.proto:{v['line']}"


@pytest.mark.parametrize(("old", "new", "narrowed"), [
    ("    max: 850", "    max: 800", True),
    ("    min: 300", "    min: 350", True),
    ("    max: 850", "    max: 900", False),
    ('allowed_values: ["US", "CA", "GB", "DE", "FR", "BR", "IN", "JP"]',
     'allowed_values: ["US", "CA", "GB", "DE", "FR", "BR", "IN"]', True),
    ('allowed_values: ["US", "CA", "GB", "DE", "FR", "BR", "IN", "JP"]',
     'allowed_values: ["US", "CA", "GB", "DE", "FR", "BR", "IN", "JP", "MX"]', False),
])
def test_narrowing_a_range_or_allowed_set_is_breaking_for_serving(repo, check, old, new, narrowed):
    repo.edit(old, new)
    repo.edit(*MINOR)
    code, result = check("--against", "HEAD")
    if narrowed:
        assert code == 1
        assert rules(result) <= {"range-narrowed", "allowed-values-narrowed"} and len(result["violations"]) == 1
        assert result["violations"][0]["line"] == repo.line_of(new.strip())
    else:
        assert (code, result["violations"]) == (0, [])


def test_unit_changed_without_bump_is_flagged_and_passes_with_one(repo, check):
    repo.edit('    unit: "days"', '    unit: "weeks"')
    code, result = check("--against", "HEAD")
    assert code == 1
    assert rules(result) == {"unit-changed-without-bump"}
    assert at(result, "unit-changed-without-bump")[0]["line"] == repo.line_of('unit: "weeks"')
    repo.edit(*MINOR)
    assert check("--against", "HEAD")[0] == 0


def test_the_planner_enum_patch_with_a_minor_bump_passes(repo, check):
    """The remediation planner's contract patch for the demo (LOYALTY_TIER_PLATINUM, MINOR bump)."""
    text = patches.add_allowed_value(repo.read(), "loyalty_tier", "platinum",
                                     "features.customer_profile.v1.LoyaltyTier")
    assert text is not None and "LOYALTY_TIER_PLATINUM = 4;" in text
    bumped = patches.bump_version(text, "minor")
    assert bumped is not None and bumped[1:] == ("2.1.0", "2.2.0")
    repo.write(bumped[0])
    code, result = check("--against", "HEAD")
    assert (code, result["violations"], result["notices"]) == (0, [], [])


def test_buf_lint_violations_name_file_line_and_fix(repo, check):
    repo.edit("  int32 credit_score = 9", "  int32 creditScore = 9")
    code, result = check()
    assert code == 1
    lint = at(result, "buf:FIELD_LOWER_SNAKE_CASE")
    assert lint and lint[0]["source"] == "buf lint" and lint[0]["line"] == repo.line_of("creditScore")
    assert lint[0]["fix"] == "rename the field to lower_snake_case"


def test_consumers_come_from_the_mlflow_registry_when_it_is_readable(repo, tmp_path, check):
    from drift_audit.adapters import mlflow_registry

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mc = mlflow_registry.client(uri)
    exp = mc.create_experiment("e", artifact_location=(tmp_path / "artifacts").as_uri())
    run = mc.create_run(exp)
    mc.create_registered_model("age_scorer", tags={mlflow_registry.TAG_FEATURES: "customer_profile.age"})
    mc.create_model_version("age_scorer", source=(tmp_path / "artifacts").as_uri(), run_id=run.info.run_id)
    config = write_config(tmp_path, uri)
    repo.edit("  int32 age = 4", "  int64 age = 4")
    repo.edit("  int64 tenure_days = 6", "  int32 tenure_days = 6")
    code, result = check("--against", "HEAD", config_path=config)
    assert code == 1
    assert result["consumers_source"].startswith(f"MLflow registry {uri} (1 model(s)")
    consumed = at(result, "consumed-feature-retyped")
    assert [(v["feature"], "age_scorer" in v["message"]) for v in consumed] == [("age", True)]
    assert "per MLflow registry" in consumed[0]["message"]  # tenure_days: no registered model consumes it


def test_unknown_revision_and_malformed_contract_exit_2_without_traceback(repo):
    cmd = [str(Path(sys.executable).parent / "drift-audit"), "contracts", "check", "--root", str(repo.root)]
    proc = subprocess.run([*cmd, "--against", "no-such-branch"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--against no-such-branch: not a commit" in proc.stderr
    repo.edit('version: "2.1.0"', 'version: "2.1"')
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"customer_profile.proto:{repo.line_of('version: ')}: group 'customer_profile': bad semantic version" \
        in proc.stderr
