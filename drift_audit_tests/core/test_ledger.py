"""The change log: tampering is detected and the entry named; interrupted appends leave a valid ledger."""

import itertools
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from drift_audit.core import ledger
from drift_audit.core.errors import LedgerError


def _append(path: Path, i: int) -> dict:
    return ledger.append(path, time=f"2026-10-21T00:00:{i:02d}+00:00", partition=f"2026-10-{i:02d}|g", actor="test",
                         decision=f"decision {i}", approvals_required=["feature owner (o@example.com)"],
                         evidence=[{"path": f"2026-10-{i:02d}/g/report.md", "sha256": f"{i:064x}"}])


@pytest.fixture()
def five(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.jsonl"
    for i in range(1, 6):
        _append(path, i)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_appends_chain_and_verify(five):
    entries = [json.loads(x) for x in _lines(five)]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev_hash"] == ledger.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    result = ledger.verify(five)
    assert result.ok and result.entries == 5 and result.head == entries[-1]["hash"] and not result.warnings


@pytest.mark.parametrize("line", [1, 3, 5])
def test_an_edited_byte_is_detected_and_named(five, line):
    lines = _lines(five)
    raw = bytearray(lines[line - 1])
    at = raw.index(b"decision ") + len(b"decision ")
    raw[at] = ord("9") if raw[at] != ord("9") else ord("8")
    lines[line - 1] = bytes(raw)
    five.write_bytes(b"".join(lines))
    result = ledger.verify(five)
    assert not result.ok and result.entries == line - 1
    assert result.first_bad.startswith(f"line {line} (seq {line},") and "edited" in result.first_bad


@pytest.mark.parametrize("line", [1, 2, 4])
def test_a_deleted_line_is_detected_and_the_next_entry_named(five, line):
    lines = _lines(five)
    del lines[line - 1]
    five.write_bytes(b"".join(lines))
    result = ledger.verify(five)
    assert not result.ok
    assert result.first_bad.startswith(f"line {line} (seq {line + 1},") and "deleted" in result.first_bad


@pytest.mark.parametrize("pair", [(1, 2), (2, 3), (3, 5)])
def test_swapped_lines_are_detected_and_named(five, pair):
    a, b = pair
    lines = _lines(five)
    lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
    five.write_bytes(b"".join(lines))
    result = ledger.verify(five)
    assert not result.ok and result.first_bad.startswith(f"line {a} (seq {b},")


def test_deleting_the_newest_entry_is_caught_by_an_anchor(five):
    head = ledger.verify(five).head
    five.write_bytes(b"".join(_lines(five)[:-1]))
    assert ledger.verify(five).ok  # a shorter chain is still a chain ...
    result = ledger.verify(five, anchor=head)
    assert not result.ok and "anchor" in result.first_bad  # ... but the recorded head is gone


def test_an_interrupted_append_leaves_a_ledger_that_verifies(five, monkeypatch):
    real_write = os.write

    def torn(fd, data):  # the process dies half-way through writing the entry
        real_write(fd, data[: len(data) // 2])
        raise OSError("killed")

    monkeypatch.setattr(ledger.os, "write", torn)
    with pytest.raises(OSError):
        _append(five, 6)
    monkeypatch.setattr(ledger.os, "write", real_write)
    assert not five.read_bytes().endswith(b"\n")
    result = ledger.verify(five)
    assert result.ok and result.entries == 5 and "interrupted append" in result.warnings[0]
    entry = _append(five, 7)  # the next append removes the torn bytes and chains to entry 5
    assert entry["seq"] == 6 and entry["prev_hash"] == result.head
    after = ledger.verify(five)
    assert after.ok and after.entries == 6 and not after.warnings


def test_a_whole_entry_missing_only_its_newline_is_kept(five):
    five.write_bytes(five.read_bytes()[:-1])
    result = ledger.verify(five)
    assert result.ok and result.entries == 5 and "newline" in result.warnings[0]
    assert _append(five, 6)["seq"] == 6
    assert ledger.verify(five).entries == 6


def test_a_corrupt_last_entry_refuses_further_appends(five):
    lines = _lines(five)
    lines[-1] = b"{not json}\n"
    five.write_bytes(b"".join(lines))
    with pytest.raises(LedgerError, match="corrupt"):
        _append(five, 6)


def test_missing_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="not found"):
        ledger.verify(tmp_path / "none.jsonl")


def _worker(args):
    path, start = args
    for i in range(start, start + 10):
        _append(Path(path), i)


def test_concurrent_appends_from_processes_keep_one_chain(tmp_path):
    path = tmp_path / "ledger.jsonl"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_worker, [(str(path), s) for s in (1, 11, 21, 31)])
    result = ledger.verify(path)
    assert result.ok and result.entries == 40
    assert sorted(json.loads(x)["partition"] for x in _lines(path)) == sorted(f"2026-10-{i:02d}|g" for i in range(1, 41))
