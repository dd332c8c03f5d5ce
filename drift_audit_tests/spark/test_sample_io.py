"""Reading sample sources: pruning, row bounds, schema differences and errors that name the file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from drift_audit.core.errors import InputDataError
from drift_audit.spark import io

TS = pa.timestamp("us", tz="UTC")
D = date(2026, 3, 10)


def _day_table(day: date, n: int, **extra) -> pa.Table:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return pa.table({"k": pa.array(range(n), pa.int64()),
                     "event_ts": pa.array([start + timedelta(minutes=i) for i in range(n)], TS), **extra})


def _hive(root, days=3, n=10):
    for i in range(days):
        day = D + timedelta(days=i)
        (root / f"date={day}").mkdir(parents=True)
        pq.write_table(_day_table(day, n), root / f"date={day}" / "part-0.parquet", row_group_size=n // 2)


def test_hive_folders_are_pruned_to_the_window(tmp_path, spark):
    _hive(tmp_path)
    src = io.list_parquet(tmp_path, (D, D + timedelta(days=1)))
    assert len(src.files) == 2 and src.rows == 20 and src.partition_columns == ("date",)
    assert io.read_parquet(spark, src).columns == ["k", "event_ts"]


def test_flat_folder_is_bounded_by_row_group_statistics(tmp_path, spark):
    """No date folders: the footers' min/max of the time column bound the rows a window can hold."""
    table = pa.concat_tables([_day_table(D + timedelta(days=i), 10) for i in range(3)])
    pq.write_table(table, tmp_path / "all.parquet", row_group_size=10)
    start = datetime(D.year, D.month, D.day, tzinfo=UTC) + timedelta(days=1)
    src = io.list_parquet(tmp_path, None, io.TimeFilter("event_ts", start, start + timedelta(days=1)))
    assert src.rows == 30 and src.rows_in_window == 10
    assert io.read_parquet(spark, src).count() == 30


def test_naive_and_nanosecond_timestamps_are_read_as_utc(tmp_path):
    naive = pa.table({"event_ts": pa.array([datetime(2026, 3, 10, 5)], pa.timestamp("ns"))})
    pq.write_table(naive, tmp_path / "a.parquet")
    window = io.TimeFilter("event_ts", datetime(2026, 3, 10, 6, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    assert io.list_parquet(tmp_path, None, window).rows_in_window == 0


def test_missing_source_names_the_path(tmp_path):
    with pytest.raises(InputDataError, match=str(tmp_path / "nope")):
        io.list_parquet(tmp_path / "nope")


def test_unreadable_file_names_the_file(tmp_path):
    _hive(tmp_path, days=1)
    bad = tmp_path / f"date={D}" / "part-1.parquet"
    bad.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputDataError, match=f"unreadable parquet file {bad}"):
        io.list_parquet(tmp_path)


def test_conflicting_types_name_both_files(tmp_path):
    pq.write_table(pa.table({"x": pa.array([1], pa.int64())}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": pa.array(["1"], pa.string())}), tmp_path / "b.parquet")
    with pytest.raises(InputDataError, match=r"'x' is int64 in .*a\.parquet but string in .*b\.parquet"):
        io.list_parquet(tmp_path)


def test_column_added_later_is_merged_as_null(tmp_path, spark):
    pq.write_table(_day_table(D, 4), tmp_path / "a.parquet")
    pq.write_table(_day_table(D, 3, extra_feature=pa.array([1.0, 2.0, 3.0])), tmp_path / "b.parquet")
    src = io.list_parquet(tmp_path)
    assert src.columns_missing_in == {"extra_feature": 1}
    df = io.read_parquet(spark, src)
    row = df.groupBy().agg({"extra_feature": "count", "k": "count"}).first()
    assert row is not None and (row["count(extra_feature)"], row["count(k)"]) == (3, 7)


def test_malformed_jsonl_names_the_file(tmp_path, spark):
    (tmp_path / "good.jsonl").write_text('{"k": 1, "x": 2.0}\n{"k": 2, "x": 3.0}\n')
    (tmp_path / "bad.jsonl").write_text('{"k": 3, "x": 4.0}\n{"k": 4, "x": \n')
    with pytest.raises(InputDataError, match=r"unreadable JSONL file .*bad\.jsonl: a line is not"):
        io.read_jsonl(spark, tmp_path)
    (tmp_path / "bad.jsonl").unlink()
    df, sha = io.read_jsonl(spark, tmp_path)
    assert df.count() == 2 and "_corrupt_record" not in df.columns and len(sha) == 64


def test_table_day_partitions_are_pruned(tmp_path, spark):
    _hive(tmp_path, days=3)
    spark.sql(f"CREATE TABLE sample_io_days (k BIGINT, event_ts TIMESTAMP, date STRING) USING parquet "
              f"PARTITIONED BY (date) LOCATION '{tmp_path}'")
    try:
        spark.sql("MSCK REPAIR TABLE sample_io_days")
        df, partitioned = io.read_table(spark, "sample_io_days")
        assert df.count() == 30 and partitioned == ("date",)
        assert io.read_table(spark, "sample_io_days", (D, D))[0].count() == 10
    finally:
        spark.sql("DROP TABLE sample_io_days")


def test_missing_table_is_named(spark):
    with pytest.raises(InputDataError, match="Spark table 'no_such_table' cannot be read"):
        io.read_table(spark, "no_such_table")
