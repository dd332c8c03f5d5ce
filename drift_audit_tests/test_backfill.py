"""Backfills through the CLI and Dagster: 3 days x every demo group complete; an identical second backfill
recomputes nothing; a changed input recomputes exactly the partitions that read it; a forced re-run of a
partition rewrites byte-identical outputs."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus

from drift_audit.cli import main
from drift_audit.commands.backfill import days_between
from drift_audit.config import load_config
from drift_audit.core import ledger
from drift_audit.core.errors import ConfigError
from drift_audit.core.hashing import sha256_file
from drift_audit_tests.conftest import REPO

pytestmark = pytest.mark.e2e

FROM, TO = "2026-10-19", "2026-10-21"
ASSETS = ["contract_snapshot", "offline_sample", "online_sample", "contract_diff", "drift_deltas", "quality_gates",
          "transformation_audit", "model_impact", "remediation_plan", "audit_report"]


def _outputs(out: Path) -> dict[str, tuple[str, int]]:
    """Every output file but the ledger (append-only, checked by `_ledger`): (sha256, mtime_ns). Equal
    mtimes mean the file was not rewritten."""
    return {p.relative_to(out).as_posix(): (sha256_file(p), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file() and "_locks" not in p.parts and p.name != ledger.FILE_NAME}


def _ledger(out: Path) -> list[str]:
    """The partitions of the ledger's entries, in order; the chain must verify."""
    path = out / ledger.FILE_NAME
    assert ledger.verify(path).ok
    return [json.loads(line)["partition"] for line in path.read_text().splitlines()]


def _materializations(instance: DagsterInstance) -> int:
    return sum(len(instance.fetch_materializations(AssetRecordsFilter(asset_key=AssetKey(a)), limit=1000).records)
               for a in ASSETS)


def _backfill(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(["--config", str(cfg), "backfill", "--from", FROM, "--to", TO, *args])
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    with capsys.disabled():
        print(out)
    return code, out, elapsed


@pytest.fixture()
def backfill_config(demo_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo with its own output folder, Dagster instance and a private copy of one serving log."""
    root = demo_config.parent
    logs = root / "bf_serving_logs" / "transactions"
    shutil.rmtree(logs.parent, ignore_errors=True)
    shutil.copytree(root / "data" / "serving_logs" / "transactions", logs)
    out = root / "out_backfill"
    shutil.rmtree(out, ignore_errors=True)
    text = demo_config.read_text().replace(f"output_dir: {root}/out", f"output_dir: {out}")
    text = text.replace(f"{root}/data/serving_logs/transactions", str(logs))
    path = root / "drift_audit_backfill.yaml"
    path.write_text(text)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return path


def test_backfill_runs_changed_and_missing_only(backfill_config, capsys, spark):
    cfg = load_config(backfill_config)
    out = cfg.output_root
    groups = sorted(cfg.groups)
    instance = DagsterInstance.get()

    code, text, _ = _backfill(capsys, backfill_config, "--dry-run")
    assert code == 0 and "12 of 12 partitions would run" in text and instance.get_runs_count() == 0

    code, text, first_s = _backfill(capsys, backfill_config)
    assert code == 0 and "12 partitions, 12 recomputed, 0 unchanged (skipped), 0 failed" in text
    runs = instance.get_runs()
    assert len(runs) == 12 and {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
    assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(
        f"{d}|{g}" for d in days_between(FROM, TO) for g in groups)
    for d in days_between(FROM, TO):
        for g in groups:
            assert (out / d / g / "findings.json").is_file()
    before, mats, entries = _outputs(out), _materializations(instance), _ledger(out)
    assert mats == 12 * len(ASSETS) and sorted(entries) == sorted(f"{d}|{g}" for d in days_between(FROM, TO)
                                                                  for g in groups)

    # the same backfill again: nothing ran (no run, no materialization, no file rewritten)
    code, text, second_s = _backfill(capsys, backfill_config)
    assert code == 0 and "12 partitions, 0 recomputed, 12 unchanged (skipped), 0 failed" in text
    assert instance.get_runs_count() == 12 and _materializations(instance) == mats
    assert _outputs(out) == before and _ledger(out) == entries
    with capsys.disabled():
        print(f"first backfill {first_s:.1f}s (12 partitions computed); second {second_s:.1f}s (0 computed)")

    # one serving-log file changes: only the partition that reads it is recomputed
    changed = backfill_config.parent / "bf_serving_logs" / "transactions" / "date=2026-10-20"
    [file] = sorted(changed.glob("*.parquet"))
    table = pq.read_table(file)
    col = table.schema.get_field_index("txn_amount_usd")
    values = table.column(col).combine_chunks()
    bumped = pc.if_else(pa.array([i == 0 for i in range(len(values))]), pc.add(values, 1.0), values)
    pq.write_table(table.set_column(col, "txn_amount_usd", bumped), file)
    code, text, _ = _backfill(capsys, backfill_config, "--dry-run")
    assert re.search(r"^run\s+2026-10-20 transactions\s+changed: online:serving_log$", text, re.M), text
    assert "1 of 12 partitions would run" in text
    code, text, _ = _backfill(capsys, backfill_config)
    assert code == 0 and "12 partitions, 1 recomputed, 11 unchanged (skipped), 0 failed" in text
    assert instance.get_runs_count() == 13
    after = _outputs(out)
    touched = {k for k in after if after[k] != before.get(k)} | {k for k in before if k not in after}
    assert touched and all("2026-10-20/transactions/" in k for k in touched), sorted(touched)
    assert _ledger(out) == [*entries, "2026-10-20|transactions"]

    # a forced re-run of an unchanged partition rewrites its files with identical bytes
    main(["--config", str(backfill_config), "backfill", "--from", TO, "--to", TO, "--groups", "engagement",
          "--force"])
    assert "1 recomputed" in capsys.readouterr().out
    rerun = _outputs(out)
    mine = [k for k in rerun if f"{TO}/engagement" in k]
    assert mine and all(rerun[k][0] == after[k][0] for k in mine)  # same bytes
    assert any(rerun[k][1] != after[k][1] for k in mine)  # ... and they were rewritten
    assert {k: v[0] for k, v in rerun.items()} == {k: v[0] for k, v in after.items()}


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2026-10-21", "2026-10-19", "before --from"),
    ("2026-13-01", "2026-10-19", "YYYY-MM-DD"),
    ("2025-01-01", "2026-10-19", "at most 366"),
])
def test_bad_ranges_are_refused(start, end, message):
    with pytest.raises(ConfigError, match=message):
        days_between(start, end)


def test_backfill_before_partitions_start_is_a_clear_error(demo_config, capsys):
    code = main(["--config", str(demo_config), "backfill", "--from", "2025-12-30", "--to", "2026-01-02"])
    assert code == 2 and "before partitions_start" in capsys.readouterr().err
