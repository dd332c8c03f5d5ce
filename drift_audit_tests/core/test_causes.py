"""Each transformation cause found on data built for it, with the right parameter; nothing claimed on clean
data or on population drift. Summaries come from Spark (spark/shapes.py, spark/skew.py) on real frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from drift_audit.core import causes
from drift_audit.core.shapes import Shape, TimeOfDay
from drift_audit.spark.shapes import shapes, time_of_day
from drift_audit.spark.skew import skew_summaries
from drift_audit_tests import builders as b

N = 3000
HOUR_P = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 12, 10, 8, 7, 7, 8, 10, 12, 9, 6, 3, 2], float)
F = b.feature
FEATURES = [
    F("amount_x100", "float64", unit="USD"), F("amount_x1000", "float64"), F("minutes_div60", "float64"),
    F("hours_x3600", "float64"), F("hour_shift", "int32", logical_type="hour_of_day", timezone="UTC"),
    F("weekday_shift", "int32", logical_type="day_of_week"),
    F("count_7d", "int64", window="7d", aggregation="count"), F("sum_7d", "float64", window="7d", aggregation="sum"),
    F("mean_30d", "float64", window="30d", aggregation="mean"),
    F("null_zero", "int64", nullable=True), F("null_minus_one", "float64", nullable=True),
    F("null_empty", "string", nullable=True),
    F("clean", "float64"), F("clean_hour", "int32", logical_type="hour_of_day"),
    F("clean_7d", "int64", window="7d", aggregation="count"), F("scaled_1_3", "float64"),
    F("shifted_plus_5", "float64", window="1d", aggregation="sum"),
]
CONTRACT = b.contract(FEATURES, tier=2)
EXPECTED = {  # feature: (kind, evidence that must match)
    "amount_x100": ("unit_mismatch", {"factor": 100.0}),
    "amount_x1000": ("unit_mismatch", {"factor": 1000.0}),
    "minutes_div60": ("unit_mismatch", {"factor": 1 / 60}),
    "hours_x3600": ("unit_mismatch", {"factor": 3600.0}),
    "hour_shift": ("timezone_mismatch", {"shift": -5, "unit": "hours"}),
    "weekday_shift": ("timezone_mismatch", {"shift": 1, "unit": "days"}),
    "count_7d": ("window_mismatch", {"online_window": "1d", "declared_window": "7d"}),
    "sum_7d": ("window_mismatch", {"online_window": "14d"}),
    "mean_30d": ("aggregation_mismatch", {"online_aggregation": "sum", "declared_aggregation": "mean"}),
    "null_zero": ("null_handling_mismatch", {"sentinel": "0"}),
    "null_minus_one": ("null_handling_mismatch", {"sentinel": "-1"}),
    "null_empty": ("null_handling_mismatch", {"sentinel": ""}),
}


def _draw(rng: np.random.Generator, online: bool) -> dict[str, np.ndarray]:
    """One side of every feature; the online side is an independent draw (other entities, no pairs)."""
    amount = rng.lognormal(3.5, 0.5, N)
    hours = rng.choice(24, N, p=HOUR_P / HOUR_P.sum())
    weekday = rng.choice(7, N, p=np.array([3, 5, 6, 6, 7, 9, 4]) / 40)
    daily = rng.poisson(1.5, (N, 7))
    minutes, dur = rng.gamma(4, 10, N), rng.gamma(2, 1.5, N)
    nulls = rng.uniform(0, 1, N) < 0.2
    logins = rng.geometric(0.3, N).astype(float)
    clean = rng.normal(50, 10, N)
    out = {
        "amount_x100": amount * (100 if online else 1), "amount_x1000": amount * (1000 if online else 1),
        "minutes_div60": minutes / (60 if online else 1), "hours_x3600": dur * (3600 if online else 1),
        "hour_shift": (hours - 5) % 24 if online else hours, "weekday_shift": (weekday + 1) % 7 if online else weekday,
        "count_7d": daily[:, -1] if online else daily.sum(axis=1),
        "sum_7d": amount * (2 if online else 1) * 7,  # summed over 14 days online
        "mean_30d": amount * (30 if online else 1),  # a 30-day sum served for the mean
        "null_zero": np.where(nulls, 0 if online else np.nan, logins),
        "null_minus_one": np.where(nulls, -1 if online else np.nan, logins),
        "null_empty": np.where(nulls, "" if online else None, rng.choice(["a", "b"], N)),
        "clean": clean, "clean_hour": hours, "clean_7d": daily.sum(axis=1),
        "scaled_1_3": clean * (1.3 if online else 1),  # drift that is no unit
        "shifted_plus_5": amount + (5 if online else 0),  # additive drift on a sum
    }
    return out


def _frame(frames, values: dict[str, np.ndarray], online: bool):
    cols: dict[str, pa.Array] = {"customer_id": pa.array(np.arange(N) + (N if online else 0), pa.int64())}
    for f in FEATURES:
        v = values[f.name]
        if f.type == "string":
            cols[f.name] = pa.array(v.tolist(), pa.string())
        elif f.type in ("int32", "int64"):
            cols[f.name] = pa.array([None if np.isnan(x) else int(x) for x in np.asarray(v, float)], pa.int64())
        else:
            cols[f.name] = pa.array(v, pa.float64(), from_pandas=True)
    if online:
        cols["_source"] = pa.array(["log"] * N)
    return frames(cols)


@pytest.fixture(scope="module")
def shaped(frames):
    rng = np.random.default_rng(11)
    off = _frame(frames, _draw(rng, False), False)
    on = _frame(frames, _draw(rng, True), True)
    periods = {f.name: p for f in FEATURES if (p := causes.period_of(f))}
    return shapes(off, on, FEATURES, periods)


def _rows(features, side="log"):
    return [{"name": f, "side": side, "drifted": True} for f in features]


def test_shapes_match_numpy(shaped):
    s = shaped[("clean", "offline")]
    rng = np.random.default_rng(11)
    ref = _draw(rng, False)["clean"]
    assert s.rows == N and s.nulls == 0 and s.mean == pytest.approx(ref.mean())
    ks = [round(p * 20) for p, _ in s.quantiles]
    assert ks == list(range(1, 20))
    expected = [np.sort(ref)[-(-k * N // 20) - 1] for k in ks]  # lower (inverted CDF) quantile
    assert [v for _, v in s.quantiles] == pytest.approx(expected)
    z = shaped[("null_zero", "log")]
    assert z.null_rate == 0.0 and z.sentinel_rate("0") == pytest.approx(shaped[("null_zero", "offline")].null_rate, abs=0.03)


def test_each_cause_found_without_pairs_with_its_parameter(shaped):
    feast = {"count_7d": {"window": "1d", "aggregation": "count", "declared_by": "StreamFeatureView s aggregation"}}
    found = {f.feature: f for f in causes.detect(CONTRACT, _rows(f.name for f in FEATURES), {}, shaped, 0.001, feast)}
    assert set(found) == set(EXPECTED)  # and nothing on clean, population-like or non-unit drift
    for feature, (kind, evidence) in EXPECTED.items():
        f = found[feature]
        assert f.kind == kind, feature
        for key, value in evidence.items():
            assert f.evidence[key] == pytest.approx(value), (feature, key)
        assert f.sources == ("log",) and 0 < (f.confidence or 0) <= 1
    assert found["count_7d"].evidence["matches_feast"] is True
    assert found["amount_x100"].evidence["method"] == "quantile ratio"
    assert found["hour_shift"].evidence["method"] == "histogram shift"
    assert found["null_zero"].evidence["method"] == "rates"


def test_same_distribution_on_both_sides_claims_nothing(frames):
    rng = np.random.default_rng(5)
    off, on = _frame(frames, _draw(rng, False), False), _frame(frames, _draw(rng, False), True)
    periods = {f.name: p for f in FEATURES if (p := causes.period_of(f))}
    found = causes.detect(CONTRACT, _rows(f.name for f in FEATURES), {}, shapes(off, on, FEATURES, periods), 0.001)
    assert found == []


def _aligned(frames, pairs: dict[str, tuple[np.ndarray, np.ndarray]]):
    cols: dict[str, pa.Array] = {"_source": pa.array(["store"] * N),
                                 "_offline_ts": pa.array([datetime(2026, 3, 1, tzinfo=UTC)] * N, b.TS)}
    for name, (offline, online) in pairs.items():
        cols[name] = pa.array(online, pa.float64(), from_pandas=True)
        cols[f"{name}__offline"] = pa.array(offline, pa.float64(), from_pandas=True)
    return frames(cols)


def test_each_cause_found_from_aligned_pairs_and_population_drift_is_not_a_cause(frames):
    rng = np.random.default_rng(2)
    amount, hours = rng.lognormal(3, 0.5, N), rng.choice(24, N, p=HOUR_P / HOUR_P.sum()).astype(float)
    daily = rng.poisson(1.5, (N, 14)).astype(float)
    logins = np.where(rng.uniform(0, 1, N) < 0.25, np.nan, rng.geometric(0.3, N))
    moved = rng.normal(80, 10, N)  # the world changed: both sides hold the new values
    pairs = {"amount_x1000": (amount, amount * 1000), "hour_shift": (hours, (hours + 3) % 24),
             "sum_7d": (daily[:, 7:].sum(axis=1), daily.sum(axis=1)),
             "null_minus_one": (logins, np.nan_to_num(logins, nan=-1.0)), "clean": (moved, moved)}
    kinds = {f: "numeric" for f in pairs}
    skews = skew_summaries(_aligned(frames, pairs), kinds, 1e-6, {"hour_shift": 24})
    found = {f.feature: f for f in causes.detect(CONTRACT, _rows(pairs, "store"), skews, {}, 0.001)}
    assert set(found) == {"amount_x1000", "hour_shift", "sum_7d", "null_minus_one"}  # not "clean"
    assert found["amount_x1000"].evidence["factor"] == 1000.0
    assert found["hour_shift"].evidence["shift"] == 3
    assert found["sum_7d"].evidence["online_window"] == "14d"
    assert found["null_minus_one"].evidence["sentinel"] == "-1.0"
    assert all(f.evidence["method"] == "aligned pairs" for f in found.values())


def _times(frames, hours: np.ndarray, online: bool, shift_h: float):
    day = datetime(2026, 3, 10, tzinfo=UTC)
    ts = [day + timedelta(hours=float(h) + shift_h, minutes=int(m)) for h, m in zip(hours, hours * 7 % 60, strict=True)]
    if online:
        return frames({"_source": pa.array(["eu"] * len(ts)), "_value_ts": pa.array(ts, b.TS)})
    return frames({"customer_id": pa.array(np.arange(len(ts)), pa.int64()), "event_ts": pa.array(ts, b.TS)})


@pytest.mark.parametrize("shift", [-5, 5.5, 0])
def test_event_timestamps_shifted_by_a_timezone_offset(frames, shift):
    rng = np.random.default_rng(8)
    hours = rng.choice(24, 2000, p=HOUR_P / HOUR_P.sum())
    times = time_of_day(_times(frames, hours, False, 0), _times(frames, rng.permutation(hours), True, shift),
                        ["customer_id"], "event_ts")
    found = causes.detect(CONTRACT, [], {}, {}, 0.001, times=times)
    if shift == 0:
        assert found == []
    else:
        (f,) = found
        assert (f.feature, f.kind, f.evidence["shift"], f.sources) == ("event_ts", "timezone_mismatch", shift, ("eu",))


def test_circular_fit_needs_a_shift_that_explains_the_difference():
    p = HOUR_P * 100
    assert causes.circular_fit(p, np.roll(p, 4))["bins"] == 4
    assert causes.circular_fit(p, p) is None  # no difference
    assert causes.circular_fit(p, np.full(24, p.sum() / 24)) is None  # different, but not a shift
    shape = Shape("x", "s", 100, 0, 100, 1.0)
    assert causes.timestamp_shift(TimeOfDay("offline", 0, (0,) * 96), TimeOfDay("s", 0, (0,) * 96)) is None
    assert causes.unit_factor(None, shape, shape) is None  # no quantiles
