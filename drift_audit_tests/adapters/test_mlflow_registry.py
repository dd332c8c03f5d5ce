"""Model impact against a real local MLflow tracking store (sqlite in tmp): registered models, versions,
aliases and metric series; findings get impacted models, the contemporaneous flag, and blast-radius ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from drift_audit.adapters import mlflow_registry as reg
from drift_audit.core.errors import InputDataError
from drift_audit.core.findings import Finding, sort_findings
from drift_audit.core.impact import annotate, model_status
from drift_audit.core.tiers import thresholds
from drift_audit.stages import impact
from drift_audit.stages.window import PartitionWindow
from drift_audit_tests import builders as b

DAY = date(2026, 3, 20)
DAYS = [DAY - timedelta(days=i) for i in range(14, -1, -1)]


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)


def _series(before: float, after: float, regress_from: date) -> list[float]:
    noise = np.random.default_rng(3).normal(0, 0.0005, len(DAYS))
    return [round((after if d >= regress_from else before) + e, 5) for d, e in zip(DAYS, noise, strict=True)]


MODELS = {  # name: (model tags, [(version tags, aliases, metric series)])
    "fraud": ({"features": "g.amount,g.hour", "metric": "auc", "tier": "1"},
              [({}, (), _series(0.90, 0.85, DAY - timedelta(days=1)))]),
    "churn": ({"features": "g.*", "metric": "auc", "tier": "2"}, [({}, (), _series(0.80, 0.80, DAY))]),
    "eta": ({"features": "g.amount", "metric": "rmse", "tier": "3", "higher": "false"},
            [({}, (), _series(10.0, 11.0, DAY - timedelta(days=10)))]),  # regressed long before the window
    "pricing": ({"features": "g.cnt", "metric": "auc", "tier": "2"},
                [({}, ("champion",), _series(0.70, 0.70, DAY)),
                 ({"features": "g.cat"}, (), _series(0.71, 0.60, DAY))]),
    "reco": ({"features": "h.*", "metric": "ndcg", "tier": "3"}, [({}, (), _series(0.4, 0.3, DAY))]),
    "untagged": ({}, [({}, (), _series(0.5, 0.1, DAY))]),
    **{f"risk{i}": ({"features": "r.x", "metric": "auc", "tier": "1"}, [({}, (), _series(0.9, 0.9, DAY))])
       for i in range(3)},
}
TAGS = {"features": reg.TAG_FEATURES, "metric": reg.TAG_METRIC, "tier": reg.TAG_TIER,
        "higher": reg.TAG_HIGHER}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlflow")
    cfg = b.write_config(tmp, ["g"])
    uri = reg.resolve_tracking_uri(cfg.mlflow.tracking_uri, tmp)
    (tmp / "mlflow").mkdir()
    mc = reg.client(uri)
    exp = mc.create_experiment("monitoring", artifact_location=(tmp / "artifacts").as_uri())
    for name, (tags, versions) in MODELS.items():
        mc.create_registered_model(name, tags={TAGS[k]: v for k, v in tags.items()})
        for vtags, aliases, series in versions:
            run = mc.create_run(exp)
            metric = tags.get("metric", "auc")
            for i, (day, value) in enumerate(zip(DAYS, series, strict=True)):
                mc.log_metric(run.info.run_id, metric, value, timestamp=_ms(day), step=i)
            mv = mc.create_model_version(name, source=f"{tmp}/artifacts/{name}", run_id=run.info.run_id,
                                         tags={TAGS[k]: v for k, v in vtags.items()})
            for alias in aliases:
                mc.set_registered_model_alias(name, alias, mv.version)
    return cfg, uri


def test_read_models_follows_the_tag_convention(registry):
    _cfg, uri = registry
    records = {(r.name, r.version): r for r in reg.read_models(uri)}
    assert set(records) == {("fraud", 1), ("churn", 1), ("eta", 1), ("pricing", 1), ("pricing", 2), ("reco", 1),
                            ("risk0", 1), ("risk1", 1), ("risk2", 1)}  # untagged is skipped
    assert records[("pricing", 1)].features == ("g.cnt",) and records[("pricing", 1)].aliases == ("champion",)
    assert records[("pricing", 2)].features == ("g.cat",)  # the version's tag overrides the model's
    assert records[("eta", 1)].higher_is_better is False and records[("fraud", 1)].risk_tier == 1
    assert [v for _, v in records[("fraud", 1)].history] == MODELS["fraud"][1][0][2]


def test_regression_is_a_drop_beyond_the_tier_tolerance_inside_the_window(registry):
    cfg, _ = registry
    out = impact.run(cfg, "g", PartitionWindow(DAY, 7))
    status = {(m["name"], m["version"]): m for m in out["models"]}
    assert ("reco", 1) not in status  # consumes another group only
    assert out["regressed"] == ["fraud@v1", "pricing@v2"]
    fraud = status[("fraud", 1)]
    series = np.array(MODELS["fraud"][1][0][2])
    in_window = np.array([DAY - timedelta(days=cfg.mlflow.window_days) < d for d in DAYS])
    baseline = float(np.median(series[~in_window][-cfg.mlflow.baseline_points:]))
    assert fraud["baseline"] == pytest.approx(baseline, abs=1e-6)
    assert fraud["relative_drop"] == pytest.approx((baseline - series[in_window].min()) / baseline, abs=1e-6)
    assert fraud["tolerance"] == thresholds(1)["model_regression"]
    assert status[("eta", 1)]["regressed"] is False  # higher rmse, but it happened before the window
    assert status[("churn", 1)]["regressed"] is False


def _finding(feature: str, kind: str = "distribution_drift", severity: str = "high", group: str = "g") -> Finding:
    return Finding(group, feature, kind, severity, {}, "drift_deltas")


def test_findings_carry_impacted_models_and_the_contemporaneous_flag(registry):
    _cfg, uri = registry
    window = PartitionWindow(DAY, 7)
    models = [model_status(r, _ms(DAY) - 3 * 86_400_000, int(window.end.timestamp() * 1000), 7)
              for r in reg.read_models(uri)]
    by = {f.feature: f for f in annotate([_finding("amount"), _finding("cat"), _finding("cnt"),
                                          _finding("*", "stale_online_values"),
                                          Finding("h", "y", "out_of_range", "high", {}, "quality_gates")], models)}
    assert by["amount"].impacted_models == ("churn@v1", "eta@v1", "fraud@v1")
    assert by["amount"].contemporaneous_regression is True  # fraud dropped in the window
    assert by["cnt"].impacted_models == ("churn@v1", "pricing@v1")
    assert by["cnt"].contemporaneous_regression is False  # neither consumer regressed
    assert by["cat"].contemporaneous_regression is True  # pricing v2 (latest) dropped
    assert "fraud@v1" in by["*"].impacted_models and "reco@v1" not in by["*"].impacted_models
    other = annotate([Finding("z", "q", "out_of_range", "high", {}, "quality_gates")], models)[0]
    assert other.impacted_models == () and other.contemporaneous_regression is None


def test_three_tier_1_consumers_outrank_a_feature_nobody_uses(registry):
    _cfg, uri = registry
    models = [model_status(r, _ms(DAY) - 3 * 86_400_000, _ms(DAY + timedelta(days=1)), 7)
              for r in reg.read_models(uri)]
    used, unused = annotate([_finding("x", group="r"), _finding("nobody", group="r")], models)
    assert used.impacted_models == ("risk0@v1", "risk1@v1", "risk2@v1")
    assert used.score > unused.score and unused.impacted_models == ()
    assert [f.feature for f in sort_findings([unused, used])] == ["x", "nobody"]
    # and it outranks a more severe finding nobody consumes
    lone = annotate([_finding("nobody", kind="out_of_range", severity="critical", group="r")], models)[0]
    assert used.score > lone.score


def test_a_bad_tag_is_a_clear_error(tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    mc = reg.client(uri)
    mc.create_registered_model("m", tags={reg.TAG_FEATURES: "g.a", reg.TAG_TIER: "critical"})
    run = mc.create_run(mc.create_experiment("e", artifact_location=tmp_path.as_uri()))
    mc.create_model_version("m", source=f"{tmp_path}/m", run_id=run.info.run_id)
    with pytest.raises(InputDataError, match=r"m v1: tag drift_audit.risk_tier='critical'"):
        reg.read_models(uri)
