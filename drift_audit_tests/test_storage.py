"""Atomic writes: a failure inside the block leaves the previous version in place and no partial folder."""

import pytest

from drift_audit.storage import TMP_PREFIX, atomic_dir, atomic_write_text, sweep_partials


def test_atomic_dir_replaces_the_previous_version(tmp_path):
    final = tmp_path / "out"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("one")
    with atomic_dir(final) as tmp:
        (tmp / "b.txt").write_text("two")
    assert sorted(p.name for p in final.iterdir()) == ["b.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_failure_keeps_the_previous_version_and_leaves_nothing_partial(tmp_path):
    final = tmp_path / "out"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError), atomic_dir(final) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert (final / "a.txt").read_text() == "one" and not (final / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_write_text_and_sweep(tmp_path):
    atomic_write_text(tmp_path / "f.json", "{}")
    assert (tmp_path / "f.json").read_text() == "{}"
    (tmp_path / f"{TMP_PREFIX}killed-1234").mkdir()
    assert sweep_partials(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
