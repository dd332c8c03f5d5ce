"""`drift-audit ledger verify`: exit 0 on a good chain, 1 naming the first bad entry, 2 when missing."""

import json

import pytest

from drift_audit.cli import main
from drift_audit.core import ledger


@pytest.fixture()
def path(tmp_path):
    p = tmp_path / "out" / "ledger.jsonl"
    for i in range(1, 4):
        ledger.append(p, time=f"t{i}", partition=f"2026-10-2{i}|g", actor="a", decision="d", approvals_required=[],
                      evidence=[])
    return p


def test_verify_ok_and_json(path, capsys):
    assert main(["ledger", "verify", str(path)]) == 0
    assert capsys.readouterr().out.startswith("ok: 3 entries verify")
    assert main(["ledger", "verify", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["entries"] == 3 and out["first_bad"] is None


def test_verify_names_the_swapped_entry(path, capsys):
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    assert main(["ledger", "verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN after 1 good entries: line 2 (seq 3, partition 2026-10-23|g" in out


def test_default_path_comes_from_the_config(path, tmp_path, capsys):
    from drift_audit_tests.conftest import write_demo_config

    cfg = write_demo_config(tmp_path)
    assert main(["--config", str(cfg), "ledger", "verify"]) == 0
    assert "3 entries" in capsys.readouterr().out


def test_missing_ledger_exits_2(tmp_path, capsys):
    assert main(["ledger", "verify", str(tmp_path / "nope.jsonl")]) == 2
    assert "ledger not found" in capsys.readouterr().err


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ledger", "verify", "--help"])
    assert exc.value.code == 0 and "--anchor" in capsys.readouterr().out
