"""Real protoc over the demo contracts and over malformed ones: a typed model, or an error at file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from drift_audit.adapters import protoc
from drift_audit.core.contract import Contract
from drift_audit.core.errors import ContractError
from drift_audit_tests.conftest import REPO

PROFILE = "features/customer_profile/v1/customer_profile.proto"


@pytest.fixture(scope="module")
def compiled() -> protoc.CompiledContracts:
    return protoc.compile_contracts(REPO / "contracts")


def test_demo_contracts_compile_into_the_typed_model(compiled):
    assert [c.group for c in compiled.contracts] == ["customer_profile", "engagement", "merchant_risk",
                                                      "transactions"]
    profile = next(c for c in compiled.contracts if c.group == "customer_profile")
    assert (profile.version, profile.entity_keys, profile.event_timestamp, profile.risk_tier) == \
        ("2.1.0", ("customer_id",), "event_ts", 2)
    assert profile.freshness_sla_seconds == 26 * 3600 and profile.ttl_seconds == 72 * 3600
    assert profile.key_types == {"customer_id": "int64", "event_ts": "timestamp", "created_ts": "timestamp"}
    text = (REPO / "contracts" / PROFILE).read_text().splitlines()
    for feat in profile.features:  # each feature's line is the line declaring its field
        assert f" {feat.name} = {feat.number}" in text[feat.line - 1]
    tier = profile.feature("loyalty_tier")
    assert (tier.type, tier.proto_type, tier.allowed_values) == \
        ("string", "features.customer_profile.v1.LoyaltyTier", ("bronze", "silver", "gold"))
    email = profile.feature("email")
    assert (email.pii_class, email.tokenization, email.owner) == ("EMAIL", "sha256", "privacy-office@example.com")
    assert (profile.feature("age").type, profile.feature("age").min, profile.feature("age").max) == ("int32", 18, 110)
    engagement = next(c for c in compiled.contracts if c.group == "engagement")
    login = engagement.feature("days_since_last_login")  # proto3 `optional` -> nullable
    assert (login.nullable, login.max_null_ratio) == (True, 0.3)
    assert engagement.feature("sessions_7d").nullable is False


def test_descriptor_set_is_canonical_and_round_trips(compiled):
    again = protoc.compile_contracts(REPO / "contracts")
    assert again.descriptor_set == compiled.descriptor_set  # byte-identical: safe to hash
    fds = descriptor_pb2.FileDescriptorSet.FromString(compiled.descriptor_set)
    names = [f.name for f in fds.file]
    assert names == sorted(names) and "drift_audit/v1/options.proto" in names
    assert all(not f.HasField("source_code_info") for f in fds.file)
    for contract in compiled.contracts:
        assert Contract.from_dict(contract.to_dict()) == contract


def test_wrappers_and_nullable_override(tmp_path):
    root = _copy(tmp_path)
    _edit(root, '  int32 credit_score = 9', '  google.protobuf.DoubleValue lifetime_value = 10;\n'
          '  float ratio = 11 [(drift_audit.v1.feature) = { nullable: true }];\n  int32 credit_score = 9')
    _edit(root, 'import "google/protobuf/timestamp.proto";',
          'import "google/protobuf/timestamp.proto";\nimport "google/protobuf/wrappers.proto";')
    profile = protoc.compile_contracts(root).contracts[0]
    assert (profile.feature("lifetime_value").type, profile.feature("lifetime_value").nullable) == ("float64", True)
    assert (profile.feature("ratio").type, profile.feature("ratio").nullable) == ("float32", True)


MALFORMED = [
    # (what, old, new, line marker (text on the reported line), message)
    ("syntax error", "int32 age = 4 [", "int32 age = 4 oops [", "int32 age = 4 oops", 'Expected ";"'),
    ("unknown option key", 'unit: "years"', 'unitt: "years"', "int32 age = 4",
     'has no field named "unitt"'),
    ("unknown option", "string email = 8 [(drift_audit.v1.feature)", "string email = 8 [(drift_audit.v1.feat)",
     "string email = 8", 'Option "(drift_audit.v1.feat)" unknown'),
    ("duplicate feature name", "int32 credit_score = 9", "int32 age = 9", "int32 age = 9",
     '"age" is already defined'),
    ("bad semver", 'version: "2.1.0"', 'version: "2.1"', 'version: "2.1"', "bad semantic version '2.1'"),
    ("bad semver suffix", 'version: "2.1.0"', 'version: "v2.1.0"', 'version: "v2.1.0"', "bad semantic version"),
    ("missing entity key", '    entity_keys: "customer_id"\n', "", "message CustomerProfile {",
     "declares no entity_keys"),
    ("entity key not a field", 'entity_keys: "customer_id"', 'entity_keys: "client_id"', "entity_keys:",
     "entity_keys names 'client_id', which is not a field"),
    ("missing event timestamp", '    event_timestamp: "event_ts"\n', "", "message CustomerProfile {",
     "declares no event_timestamp"),
    ("bad risk tier", "risk_tier: 2", "risk_tier: 4", "risk_tier: 4", "risk_tier must be 1, 2 or 3"),
    ("bad duration", 'freshness_sla: "26h"', 'freshness_sla: "a day"', "freshness_sla:", "bad duration 'a day'"),
    ("bad classification", 'data_classification: "restricted"', 'data_classification: "secret"',
     "data_classification:", "data_classification 'secret' is not one of"),
    ("min above max", "max: 850", "max: 250", "max: 250", "min 300 is greater than max 250"),
    ("range on a string", "allowed_values: [", "min: 7\n    allowed_values: [", "min: 7",
     "min/max need a numeric type"),
    ("unknown tokenization", 'tokenization: "sha256"', 'tokenization: "rot13"', "tokenization:",
     "tokenization 'rot13' is not one of"),
    ("unknown timezone", 'unit: "years"', 'unit: "years"\n    timezone: "Mars/Olympus"', "timezone:",
     "'Mars/Olympus' is not an IANA time zone name"),
    ("repeated allowed value", '"JP"]', '"JP", "US"]', "allowed_values:", "allowed_values repeats a value"),
    ("default outside allowed", 'allowed_values: [', 'default_value: "XX"\n    allowed_values: [',
     "default_value:", "default_value 'XX' is not among the allowed values"),
    ("repeated field", "int32 credit_score = 9", "repeated int32 credit_score = 9", "repeated int32",
     "repeated fields are not a supported feature type"),
]


@pytest.mark.parametrize(("what", "old", "new", "marker", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_contract_is_a_contract_error_at_file_and_line(tmp_path, what, old, new, marker, message):
    root = _copy(tmp_path)
    text = _edit(root, old, new)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if marker in ln)
    with pytest.raises(ContractError) as err:
        protoc.compile_contracts(root)
    assert str(err.value).startswith(f"{root / PROFILE}:{line}: "), str(err.value)
    assert message in str(err.value)


def test_two_contracts_defining_one_group_is_an_error(tmp_path):
    root = _copy(tmp_path)
    copy = root / "features/customer_profile/v2/customer_profile.proto"
    copy.parent.mkdir()
    copy.write_text((root / PROFILE).read_text().replace("customer_profile.v1", "customer_profile.v2"))
    with pytest.raises(ContractError, match="feature group 'customer_profile' is also defined at"):
        protoc.compile_contracts(root)


def test_missing_folder_and_empty_folder_are_errors(tmp_path):
    with pytest.raises(ContractError, match="contracts folder not found"):
        protoc.compile_contracts(tmp_path / "nope")
    with pytest.raises(ContractError, match=r"no \.proto contracts"):
        protoc.compile_contracts(tmp_path)


def _copy(tmp: Path) -> Path:
    root = tmp / "contracts"
    (root / "drift_audit/v1").mkdir(parents=True)
    shutil.copy(REPO / "contracts/drift_audit/v1/options.proto", root / "drift_audit/v1/options.proto")
    shutil.copytree(REPO / "contracts/features/customer_profile", root / "features/customer_profile")
    return root


def _edit(root: Path, old: str, new: str) -> str:
    path = root / PROFILE
    text = path.read_text()
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text)
    return text


def test_the_full_example_in_the_docs_compiles_and_passes_the_check(tmp_path):
    from drift_audit.stages.contracts import check

    doc = (REPO / "docs/contracts.md").read_text()
    example = doc.split("```proto\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "contracts"
    (root / "drift_audit/v1").mkdir(parents=True)
    shutil.copy(REPO / "contracts/drift_audit/v1/options.proto", root / "drift_audit/v1/options.proto")
    shutil.copy(REPO / "contracts/buf.yaml", root / "buf.yaml")
    (root / "features/transactions/v1").mkdir(parents=True)
    (root / "features/transactions/v1/transactions.proto").write_text(example)
    [contract] = protoc.compile_contracts(root).contracts
    assert contract.feature("card_type").allowed_values == ("debit", "credit")
    rate = contract.feature("chargeback_rate_90d")
    assert (rate.nullable, rate.max_null_ratio, rate.aggregation) == (True, 0.05, "mean")
    assert contract.feature("txn_amount_usd").drift.psi == 0.15
    assert contract.is_reserved(11, "device_id") == (True, True)
    report = check(root, None, None)
    assert (report.verdict.violations, report.groups) == ((), ("transactions",))
