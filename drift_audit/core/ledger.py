"""The change log: an append-only JSONL ledger, each entry chained to the previous one by its sha256.

Entry: `seq`, `time` (wall clock, UTC — the only place it is kept), `partition`, `actor`, `decision`,
`approvals_required`, `evidence` ([{path, sha256}]), `prev_hash`, and `hash` = sha256 of the canonical
JSON of every other field. Editing a byte breaks that entry's hash; deleting, inserting or swapping lines
breaks the next entry's `prev_hash` (and `seq`). Deleting the newest entries leaves a shorter valid chain:
`verify(anchor=...)` checks that a hash recorded elsewhere (the Dagster materialization) is still there.

An append is committed by its trailing newline (one write, then fsync), under an exclusive lock. Bytes
after the last newline are an interrupted append: `verify` ignores them with a warning (unless they are
a whole valid entry), and the next append removes them before writing.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drift_audit.core.errors import LedgerError
from drift_audit.core.hashing import canonical_json, sha256_json

FILE_NAME = "ledger.jsonl"  # under output_dir
GENESIS = "0" * 64
FIELDS = ("seq", "time", "partition", "actor", "decision", "approvals_required", "evidence", "prev_hash", "hash")
_TAIL_CHUNK = 1 << 16


@dataclass(frozen=True)
class Verification:
    path: str
    entries: int
    head: str  # hash of the last valid entry (GENESIS when empty)
    first_bad: str | None = None  # names the first entry that does not verify
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def entry_hash(entry: Mapping[str, Any]) -> str:
    return sha256_json({k: v for k, v in entry.items() if k != "hash"})


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _name(line: int, entry: Mapping[str, Any] | None) -> str:
    if entry is None:
        return f"line {line}"
    return f"line {line} (seq {entry.get('seq')}, partition {entry.get('partition')}, time {entry.get('time')})"


def _problem(line: int, entry: dict[str, Any] | None, prev: str) -> str | None:
    if entry is None:
        return f"{_name(line, None)}: not a JSON object (edited or corrupted)"
    if set(entry) != set(FIELDS):
        return f"{_name(line, entry)}: fields differ from {', '.join(FIELDS)}"
    if entry["hash"] != entry_hash(entry):
        return f"{_name(line, entry)}: content does not match its hash (the entry was edited)"
    if entry["prev_hash"] != prev:
        return (f"{_name(line, entry)}: prev_hash does not match the hash of the entry before it "
                f"(an entry was deleted, inserted or moved)")
    if entry["seq"] != line:
        return f"{_name(line, entry)}: seq {entry['seq']} where {line} was expected (entries were reordered)"
    return None


def verify(path: Path, anchor: str | None = None) -> Verification:
    """Check the whole chain; `first_bad` names the first entry that fails, by line, seq and partition."""
    if not path.is_file():
        raise LedgerError(f"ledger not found: {path}")
    data = path.read_bytes()
    *lines, tail = data.split(b"\n")
    prev, warnings, hashes = GENESIS, [], set()
    for i, raw in enumerate(lines, 1):
        entry = _parse(raw)
        bad = _problem(i, entry, prev)
        if bad:
            return Verification(str(path), i - 1, prev, bad)
        assert entry is not None
        prev = entry["hash"]
        hashes.add(prev)
    count = len(lines)
    if tail:
        entry = _parse(tail)
        if entry is not None and _problem(count + 1, entry, prev) is None:
            count, prev = count + 1, entry["hash"]
            hashes.add(prev)
            warnings.append(f"line {count} lacks its final newline (the next append adds it)")
        else:
            warnings.append(f"{len(tail)} bytes after line {count} are an interrupted append: ignored "
                            f"(the next append removes them)")
    if anchor and anchor not in hashes:
        return Verification(str(path), count, prev, f"anchor {anchor[:16]}… is not in the ledger: entries after "
                                                    f"line {count} were deleted, or it belongs to another ledger",
                            tuple(warnings))
    return Verification(str(path), count, prev, None, tuple(warnings))


def append(path: Path, time: str, partition: str, actor: str, decision: str,
           approvals_required: Sequence[str], evidence: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Append one entry chained to the last committed one; returns it (with its hash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last = _repair_tail(fd)
        entry: dict[str, Any] = {
            "seq": (last["seq"] + 1) if last else 1, "time": time, "partition": partition, "actor": actor,
            "decision": decision, "approvals_required": list(approvals_required),
            "evidence": [dict(e) for e in evidence], "prev_hash": last["hash"] if last else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, (canonical_json(entry) + "\n").encode("utf-8"))
        os.fsync(fd)
        return entry
    finally:
        os.close(fd)  # closing releases the lock


def _repair_tail(fd: int) -> dict[str, Any] | None:
    """The last committed entry; an interrupted append after it is cut off (or completed if whole)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    start, chunk = size, b""
    while True:  # read backwards until the last committed line is whole in `chunk`
        step = min(_TAIL_CHUNK, start)
        start -= step
        os.lseek(fd, start, os.SEEK_SET)
        chunk = os.read(fd, step) + chunk
        body = chunk[:chunk.rfind(b"\n")] if b"\n" in chunk else b""
        if start == 0 or b"\n" in body:
            break
    tail = chunk[chunk.rfind(b"\n") + 1:] if b"\n" in chunk else chunk
    if tail:
        whole = _parse(tail)
        if whole is not None and whole.get("hash") == entry_hash(whole):
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, b"\n")  # a whole entry whose newline was lost: commit it
            return whole
        os.ftruncate(fd, size - len(tail))
    last_line = body.rpartition(b"\n")[2]
    if not last_line:
        return None
    entry = _parse(last_line)
    if entry is None or "hash" not in entry or "seq" not in entry:
        raise LedgerError(f"the last entry of the ledger is corrupt ({len(last_line)} bytes): run "
                          f"`drift-audit ledger verify` and restore the ledger before appending")
    return entry
