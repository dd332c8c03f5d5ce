"""summary.md stays within 300 words however many findings a partition has, and keeps its three parts."""

from datetime import date

import pytest

from drift_audit.adapters.protoc import compile_contracts
from drift_audit.core import remediation, root_causes
from drift_audit.core.deliverables import summary
from drift_audit.core.findings import SEVERITIES, Finding
from drift_audit.core.impact import ModelStatus
from drift_audit_tests.conftest import REPO


def _read(rel: str) -> str | None:
    path = REPO / rel
    return path.read_text() if rel and path.is_file() else None


@pytest.fixture(scope="module")
def crowded_plan():
    """Every cause kind on every feature, plus long-named features: over a hundred findings."""
    contract = next(c for c in compile_contracts(REPO / "contracts").contracts if c.group == "transactions")
    features = [*contract.feature_names, *(f"an_unusually_long_feature_name_number_{i}_of_many" for i in range(20))]
    findings = []
    for i, feat in enumerate(features):
        for j, kind in enumerate(root_causes.CAUSES):
            sev = SEVERITIES[(i + j) % 4]
            findings.append(Finding("transactions", feat, kind, sev, {"factor": 100.0, "shift": 3}, "test",
                                    confidence=round(0.3 + 0.05 * (j % 14), 2), score=float(i + j)))
        findings.append(Finding("transactions", feat, "training_serving_skew", "high", {}, "test"))
    model = ModelStatus("fraud_detector", 1, 1, "lead@example.com", "auc", ("transactions.*",), 0.9, 0.8, 0.11,
                        0.005, True)
    linked = root_causes.link(findings)
    inputs = remediation.PlanInputs(
        contract=contract, day=date(2026, 10, 21), affected_days=7, repo_path=lambda p: p, read=_read,
        online_code="demo/pipelines/serving.py", offline_code="demo/pipelines/batch.py",
        contract_path=f"contracts/{contract.file}", feast_definitions="demo/feature_repo/features.py",
        models=[model])
    plan = remediation.plan(linked, inputs)
    return {**plan, "findings": [f.to_dict() for f in linked], "models": [model.to_dict()], "date": "2026-10-21"}


def test_many_findings_stay_within_300_words(crowded_plan):
    assert len(crowded_plan["findings"]) > 500 and len(crowded_plan["actions"]) > 400
    text = summary.render("transactions", "2026-10-21", crowded_plan)
    assert summary.words(text) <= summary.MAX_WORDS
    for part in ("**Status:**", "## Root causes", "## Mitigation status", "## Residual risk"):
        assert part in text
    listed = [ln for ln in text.splitlines() if ln[:1].isdigit()]
    more = next(ln for ln in text.splitlines() if ln.startswith("+"))
    assert len(listed) + int(more.split()[0][1:]) == len(crowded_plan["actions"])  # every cause is accounted for
    assert listed[0].split("(")[1].startswith("critical")  # the most severe come first


def test_a_clean_partition_says_so():
    plan = {"findings": [], "actions": [], "root_causes": [], "models": [], "patches": {}}
    text = summary.render("g", "2026-10-21", plan)
    assert "No defect found" in text and summary.words(text) <= summary.MAX_WORDS


def test_word_count_is_whitespace_tokens():
    assert summary.words("a  b\nc `d e`") == 5
