"""Point-in-time alignment on hand-built timelines: late values, TTL expiry, ties, freshness lags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from drift_audit.spark.sample import align_point_in_time

T0 = datetime(2026, 3, 10, tzinfo=UTC)
END = T0 + timedelta(days=1)
TTL = 10 * 3600
TS = pa.timestamp("us", tz="UTC")


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# offline rows: (entity, event hour, created hour, x)
OFFLINE = [
    (1, 1, 1.1, 1.0),
    (1, 5, 5.1, 5.0),
    (1, 5, 7.0, 50.0),   # same event time, created later (a correction): wins the tie
    (1, 9, 23.0, 9.0),   # arrived late (created at 23:00): Feast joins on event time all the same
    (3, 6, 6.1, 6.0),    # only after the online value of entity 3
    (4, 2, 2.5, 7.0),    # full tie (event and created): the smaller value is taken, whatever the order
    (4, 2, 2.5, 3.0),
]
# online values: (case, entity, value hour, request hour or None)
ONLINE = [
    ("between_rows", 1, 4, 4.5),
    ("exactly_at_event", 1, 5, None),
    ("late_offline_row", 1, 9.5, 10),
    ("ttl_boundary_inclusive", 1, 19, None),
    ("ttl_expired", 1, 20, None),
    ("stale_serving", 1, 1, 12),
    ("no_offline_entity", 2, 3, None),
    ("only_future_offline", 3, 5, None),
    ("full_tie", 4, 3, None),
]
# case -> (aligned offline x, offline event hour, newest offline event hour known when served)
EXPECTED = {
    "between_rows": (1.0, 1, 1),
    "exactly_at_event": (50.0, 5, 9),
    "late_offline_row": (9.0, 9, 9),
    "ttl_boundary_inclusive": (9.0, 9, 9),
    "ttl_expired": (None, None, 9),
    "stale_serving": (1.0, 1, 9),
    "no_offline_entity": (None, None, None),
    "only_future_offline": (None, None, 6),
    "full_tie": (3.0, 2, 2),
}


@pytest.fixture(scope="module")
def aligned(frames):
    off = frames({
        "customer_id": pa.array([r[0] for r in OFFLINE], pa.int64()),
        "event_ts": pa.array([h(r[1]) for r in OFFLINE], TS),
        "created_ts": pa.array([h(r[2]) for r in OFFLINE], TS),
        "x": pa.array([r[3] for r in OFFLINE], pa.float64()),
    }, row_groups=4)
    on = frames({
        "case": [r[0] for r in ONLINE],
        "customer_id": pa.array([r[1] for r in ONLINE], pa.int64()),
        "x": pa.array([0.0] * len(ONLINE), pa.float64()),
        "_value_ts": pa.array([h(r[2]) for r in ONLINE], TS),
        "_request_ts": pa.array([None if r[3] is None else h(r[3]) for r in ONLINE], TS),
        "_source": ["s"] * len(ONLINE),
    }, row_groups=3)
    return _collect(align_point_in_time(on, off, ["customer_id"], "event_ts", "created_ts", ["x"], TTL, END))


def _collect(df):
    """Rows by case, timestamps as epoch seconds (collect() would turn them into local wall time)."""
    out = df.select(*[F.col(c).cast("double").alias(c) if t == "timestamp" else F.col(c) for c, t in df.dtypes])
    return {r["case"]: r.asDict() for r in out.collect()}  # test-only: nine rows


def s(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


@pytest.mark.parametrize("case", [c[0] for c in ONLINE])
def test_point_in_time_case(aligned, case):
    x, event, latest = EXPECTED[case]
    row = aligned[case]
    value_ts = h(next(r[2] for r in ONLINE if r[0] == case))
    assert row["x__offline"] == x
    assert row["_offline_ts"] == s(None if event is None else h(event))
    assert row["_entity_latest_ts"] == s(None if latest is None else h(latest))
    expected_lag = None if latest is None else (h(latest) - value_ts).total_seconds()
    assert row["_lag_offline_s"] == expected_lag
    assert row["_lag_partition_end_s"] == (END - value_ts).total_seconds()


def test_one_output_row_per_online_value(aligned):
    assert set(aligned) == {c[0] for c in ONLINE}


def test_alignment_does_not_depend_on_row_order(frames, spark, aligned):
    off = frames({
        "customer_id": pa.array([r[0] for r in reversed(OFFLINE)], pa.int64()),
        "event_ts": pa.array([h(r[1]) for r in reversed(OFFLINE)], TS),
        "created_ts": pa.array([h(r[2]) for r in reversed(OFFLINE)], TS),
        "x": pa.array([r[3] for r in reversed(OFFLINE)], pa.float64()),
    }, row_groups=7)
    on = frames({
        "case": [r[0] for r in ONLINE], "customer_id": pa.array([r[1] for r in ONLINE], pa.int64()),
        "x": pa.array([0.0] * len(ONLINE), pa.float64()),
        "_value_ts": pa.array([h(r[2]) for r in ONLINE], TS),
        "_request_ts": pa.array([None if r[3] is None else h(r[3]) for r in ONLINE], TS),
        "_source": ["s"] * len(ONLINE),
    }, row_groups=1)
    out = align_point_in_time(on.repartition(3), off.repartition(5), ["customer_id"], "event_ts", "created_ts",
                              ["x"], TTL, END)
    assert _collect(out) == aligned


def test_without_created_timestamp_ties_fall_back_to_values(frames):
    off = frames({"k": pa.array([1, 1], pa.int64()), "event_ts": pa.array([h(1), h(1)], TS),
                  "x": pa.array([4.0, 2.0], pa.float64())})
    on = frames({"k": pa.array([1], pa.int64()), "x": pa.array([0.0], pa.float64()),
                 "_value_ts": pa.array([h(2)], TS), "_request_ts": pa.array([None], TS), "_source": ["s"]})
    row = align_point_in_time(on, off, ["k"], "event_ts", None, ["x"], TTL, END).first()
    assert row is not None and row["x__offline"] == 2.0
