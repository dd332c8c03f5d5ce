"""The version rules of `contracts check` as pure functions over two lists of contracts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drift_audit.core.contract import Contract, Feature, key_line
from drift_audit.core.contract_rules import Change, compare, consumers_of, lint_changes, pii_rules

FILE = "features/orders/v1/orders.proto"
TEXT = """message Orders {
  option (drift_audit.v1.group) = {
    name: "orders"
    version: "1.2.0"
    entity_keys: "order_id"
  };
  double amount = 4 [(drift_audit.v1.feature) = {
    unit: "USD"
    min: 0
    max: 100
  }];
  string channel = 5 [(drift_audit.v1.feature) = { allowed_values: ["web", "app"] }];
}
"""


def contract(version: str = "1.2.0", features: tuple[Feature, ...] | None = None, **kw) -> Contract:
    feats = features if features is not None else (
        Feature("amount", "float64", "double", 7, unit="USD", min=0, max=100, number=4),
        Feature("channel", "string", "string", 12, allowed_values=("web", "app"), number=5),
    )
    base = dict(group="orders", message="features.orders.v1.Orders", file=FILE, line=1, version=version,
                owners=("o@example.com",), entity_keys=("order_id",), event_timestamp="event_ts",
                created_timestamp="", risk_tier=2, freshness_sla_seconds=None, consuming_models=("pricing",),
                data_classification="internal", feature_view="orders", ttl_seconds=None, deprecation_window="",
                features=feats)
    return Contract(**{**base, **kw})


def with_feature(c: Contract, name: str, **changes) -> Contract:
    return replace(c, features=tuple(replace(f, **changes) if f.name == name else f for f in c.features))


def run(old: Contract | None, new: Contract | None, breaking=(), consumers=None):
    consumers = {"pricing": ["orders.*"]} if consumers is None else consumers
    return compare([old] if old else [], [new] if new else [], list(breaking), consumers, "test registry",
                   {FILE: TEXT}, "HEAD")


def rules(changes) -> list[str]:
    return sorted(c.rule for c in changes)


def test_key_line_finds_the_option_inside_its_block_only():
    assert key_line(TEXT, 1, "version", "};") == 4
    assert key_line(TEXT, 7, "max") == 10
    assert key_line(TEXT, 12, "allowed_values") == 12  # single-line options
    assert key_line(TEXT, 12, "unit") == 12  # not found in the block: the block's own line
    assert key_line(TEXT, 1, "unit", "};") == 1  # the group block ends before the fields


def test_identical_contracts_have_nothing_to_say():
    verdict = run(contract(), contract())
    assert (verdict.violations, verdict.notices) == ((), ())


@pytest.mark.parametrize(("changes", "expected"), [
    ({"min": 10}, ["range-narrowed"]),
    ({"max": 50}, ["range-narrowed"]),
    ({"min": None, "max": None}, []),  # widening: accepted
    ({"max": 1000}, []),
    ({"nullable": True}, []),
])
def test_range_narrowing_is_breaking_without_a_major_bump(changes, expected):
    verdict = run(contract(), with_feature(contract("1.3.0"), "amount", **changes))
    assert rules(verdict.violations) == expected
    for v in verdict.violations:
        assert v.line == key_line(TEXT, 7, "min" if "min" in changes else "max")
        assert "not a MAJOR bump" in v.message and 'version: "2.0.0"' in v.fix


@pytest.mark.parametrize(("old", "new", "narrowed"), [
    (("web", "app"), ("web",), True),
    (("web", "app"), ("web", "app", "kiosk"), False),
    ((), ("web",), True),  # an open set becomes restricted
])
def test_allowed_value_narrowing(old, new, narrowed):
    verdict = run(with_feature(contract(), "channel", allowed_values=old),
                  with_feature(contract("1.3.0"), "channel", allowed_values=new))
    assert rules(verdict.violations) == (["allowed-values-narrowed"] if narrowed else [])


def test_nullability_narrowing():
    old = with_feature(contract(), "amount", nullable=True, max_null_ratio=0.2)
    assert rules(run(old, with_feature(contract("1.3.0"), "amount", nullable=False)).violations) == \
        ["nullability-narrowed"]
    assert rules(run(old, with_feature(contract("1.3.0"), "amount", nullable=True, max_null_ratio=0.1)
                     ).violations) == ["nullability-narrowed"]
    assert run(old, with_feature(contract("1.3.0"), "amount", nullable=True, max_null_ratio=0.3)).violations == ()


def test_breaking_with_major_bump_and_window_is_accepted_as_notices():
    buf = Change(FILE, 7, "FIELD_SAME_TYPE", "changed type", source="buf breaking")
    new = with_feature(contract("2.0.0", deprecation_window="30d"), "amount", max=50)
    verdict = run(contract(), new, [buf], consumers={})
    assert verdict.violations == ()
    assert rules(verdict.notices) == ["buf:FIELD_SAME_TYPE", "range-narrowed"]
    assert all("accepted: MAJOR bump 1.2.0 → 2.0.0, deprecation window 30d" in n.message for n in verdict.notices)


def test_major_bump_without_window_is_one_violation_at_the_version_line():
    verdict = run(contract(), with_feature(contract("2.0.0"), "amount", max=50))
    assert [(v.rule, v.line) for v in verdict.violations] == [("deprecation-window", 4)]


@pytest.mark.parametrize("version", ["1.2.0", "1.2.1", "1.3.0"])
def test_buf_breaking_change_without_major_bump_is_a_violation(version):
    buf = Change(FILE, 12, "FIELD_SAME_NAME", "renamed", source="buf breaking")
    verdict = run(contract(), contract(version), [buf])
    assert [(v.rule, v.line, v.source, v.group) for v in verdict.violations] == \
        [("buf:FIELD_SAME_NAME", 12, "buf breaking", "orders")]


def test_buf_breaking_change_in_a_file_without_group_is_always_a_violation():
    buf = Change("drift_audit/v1/options.proto", 3, "FIELD_NO_DELETE", "deleted", source="buf breaking")
    verdict = run(contract(), contract("2.0.0", deprecation_window="30d"), [buf])
    assert rules(verdict.violations) == ["buf:FIELD_NO_DELETE"]


def test_removed_consumed_feature_names_the_model_even_with_a_major_bump():
    new = contract("2.0.0", deprecation_window="30d", features=contract().features[1:],
                   reserved_numbers=((4, 5),), reserved_names=("amount",))
    verdict = run(contract(), new, consumers={"pricing": ["orders.amount"], "ranker": ["orders.channel"]})
    assert [(v.rule, v.feature) for v in verdict.violations] == [("consumed-feature-removed", "amount")]
    assert "pricing (per test registry)" in verdict.violations[0].message
    assert "ranker" not in verdict.violations[0].message


def test_removed_field_must_be_reserved():
    new = contract("2.0.0", deprecation_window="30d", features=contract().features[1:], reserved_numbers=((4, 5),))
    verdict = run(contract(), new, consumers={})
    assert [(v.rule, v.fix) for v in verdict.violations] == \
        [("removed-field-not-reserved", 'add reserved "amount"; to message Orders')]


def test_removed_group_names_its_consumers():
    verdict = run(contract(), None, consumers={"pricing": ["orders.*"]})
    assert [(v.rule, v.file, v.line) for v in verdict.violations] == [("consumed-feature-removed", FILE, 1)]
    assert "amount, channel" in verdict.violations[0].message


@pytest.mark.parametrize("attr", ["unit", "timezone", "window", "aggregation"])
def test_meaning_changed_needs_a_version_bump(attr):
    changed = with_feature(contract(), "amount", **{attr: "7d" if attr == "window" else "max"})
    if attr == "timezone":
        changed = with_feature(contract(), "amount", timezone="America/New_York")
    [violation] = run(contract(), changed).violations
    assert (violation.rule, violation.group, violation.feature, violation.source) == \
        (f"{attr}-changed-without-bump", "orders", "amount", "drift-audit")
    assert run(contract(), replace(changed, version="1.2.1")).violations == ()


def test_version_going_down_and_entity_keys_changing():
    assert "version-decreased" in rules(run(contract(), contract("1.1.9")).violations)
    verdict = run(contract(), contract("1.3.0", entity_keys=("order_id", "line_id")))
    assert rules(verdict.violations) == ["entity-keys-changed"]
    assert verdict.violations[0].line == 5


def test_unversioned_change_is_a_notice():
    new = replace(contract(), features=(*contract().features, Feature("tip", "float64", "double", 13, number=6)))
    verdict = run(contract(), new)
    assert verdict.violations == () and rules(verdict.notices) == ["changed-without-bump"]


def test_consumers_match_features_and_wildcards():
    consumers = {"a": ["orders.amount"], "b": ["orders.*"], "c": ["orders_v2.*", "other.amount"]}
    assert consumers_of(consumers, "orders", "amount") == ["a", "b"]
    assert consumers_of(consumers, "orders", "channel") == ["b"]


def test_pii_feature_needs_tokenization_and_lint_gets_a_fix():
    pii = with_feature(contract(), "channel", pii_class="DEVICE_ID")
    assert [(c.rule, c.line, c.feature) for c in pii_rules([pii], {FILE: TEXT})] == \
        [("pii-tokenization", 12, "channel")]
    assert pii_rules([with_feature(pii, "channel", tokenization="sha256")], {FILE: TEXT}) == []
    lint = lint_changes([Change(FILE, 7, "FIELD_LOWER_SNAKE_CASE", "bad name"), Change(FILE, 1, "NEW_RULE", "x")])
    assert [(c.rule, c.source) for c in lint] == [("buf:FIELD_LOWER_SNAKE_CASE", "buf lint"),
                                                  ("buf:NEW_RULE", "buf lint")]
    assert lint[1].fix == "change the contract as buf describes, or except NEW_RULE in buf.yaml"
