"""Root causes: symptoms link to their most confident cause; causes never link to each other."""

import pytest

from drift_audit.core import root_causes
from drift_audit.core.findings import Finding


def _f(feature, kind, confidence=None, evidence=None, score=1.0):
    return Finding("g", feature, kind, "high", evidence or {}, "test", confidence=confidence, score=score)


@pytest.fixture()
def findings():
    return [
        _f("a", "unit_mismatch", 0.97),
        _f("a", "training_serving_skew"),
        _f("a", "out_of_range"),
        _f("*", "dependency_version_mismatch", 0.5, {"drifted_features_in_online_code": ["a", "b"]}),
        _f("b", "training_serving_skew"),
        _f("c", "distribution_drift"),
        _f("d", "allowed_value_drift", evidence={"share": 0.03, "side": "s1"}),
        _f("d", "training_serving_skew", evidence={"by_source": {"s1": {"mismatch_share": 0.04}}}),
    ]


def test_symptoms_link_to_the_most_confident_cause(findings):
    linked = {f.id: f.root_cause for f in root_causes.link(findings)}
    assert linked["g.a.training_serving_skew"] == "g.a.unit_mismatch"
    assert linked["g.a.out_of_range"] == "g.a.unit_mismatch"
    assert linked["g.b.training_serving_skew"] == "g.*.dependency_version_mismatch"  # the only candidate
    assert linked["g.c.distribution_drift"] is None  # not named by the dependency finding: no cause
    assert linked["g.a.unit_mismatch"] is None and linked["g.*.dependency_version_mismatch"] is None
    assert linked["g.d.training_serving_skew"] == "g.d.allowed_value_drift"


def test_ranking_carries_confidence_evidence_and_alternatives(findings):
    ranked = root_causes.ranked(root_causes.link(findings))
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert [r["root_cause"] for r in ranked] == ["g.a.unit_mismatch", "g.d.allowed_value_drift",
                                                 "g.*.dependency_version_mismatch"]
    top = ranked[0]
    assert top["confidence"] == 0.97 and top["explains"] == ["g.a.out_of_range", "g.a.training_serving_skew"]
    # the group-wide dependency mismatch is the runner-up for feature a, discounted as group-wide
    assert top["alternatives"] == [{"cause": "g.*.dependency_version_mismatch", "confidence": pytest.approx(0.4),
                                    "basis": "measured by test, x0.8 as a group-wide cause"}]
    # 3% of values are not allowed, 4% of pairs mismatch: the new value explains three quarters of the skew
    assert ranked[1]["confidence"] == pytest.approx(0.75)
    assert ranked[2]["explains"] == ["g.b.training_serving_skew"] and ranked[2]["confidence"] == pytest.approx(0.4)


def test_a_cause_on_another_feature_or_group_explains_nothing():
    cause = _f("a", "timezone_mismatch", 1.0)
    assert root_causes.explains(cause, _f("b", "training_serving_skew")) is None
    other_group = Finding("h", "a", "training_serving_skew", "high", {}, "test")
    assert root_causes.explains(cause, other_group) is None
    assert root_causes.explains(cause, _f("a", "unit_mismatch", 1.0)) is None
