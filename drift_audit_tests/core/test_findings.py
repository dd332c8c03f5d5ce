from drift_audit.core.findings import KINDS, Finding, merge_duplicates, severity_for, sort_findings


def _f(kind="type_mismatch", feature="x", severity="medium", detected_by="contract_diff", sources=("offline",),
       score=0.0, evidence=None):
    return Finding("g", feature, kind, severity, evidence or {"n": 1}, detected_by, sources, score=score)


def test_severity_follows_the_risk_tier():
    assert [severity_for(t, True) for t in (1, 2, 3)] == ["critical", "high", "medium"]
    assert [severity_for(t, False) for t in (1, 2, 3)] == ["high", "medium", "low"]


def test_duplicates_merge_keeping_the_worst_severity_and_every_source():
    merged = merge_duplicates([
        _f(severity="medium", sources=("offline",)),
        _f(severity="high", detected_by="quality_gates", sources=("online",), evidence={"ge": True}),
    ])
    assert len(merged) == 1
    f = merged[0]
    assert f.severity == "high" and f.sources == ("offline", "online")
    assert f.evidence["also_detected_by"] == {"quality_gates": {"ge": True}}


def test_sort_by_score_then_severity_then_id():
    a, b, c = _f(feature="a", score=1.0), _f(feature="b", score=5.0), _f(feature="c", score=1.0, severity="high")
    assert [f.feature for f in sort_findings([a, b, c])] == ["b", "c", "a"]


def test_round_trip_and_known_kinds():
    f = _f()
    assert Finding.from_dict(f.to_dict()) == f
    assert f.to_dict()["id"] == "g.x.type_mismatch"
    assert all(stage for stage, _ in KINDS.values())
