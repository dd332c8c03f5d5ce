"""`drift-audit compare` run for real: in-process through cli.main (sharing the session Spark) and once as
a subprocess for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps

from drift_audit.cli import main


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(7)
    n, m = 4000, 3000
    ref = {"stable": rng.normal(0, 1, n), "shifted": rng.normal(0, 1, n),
           "scaled": rng.lognormal(0, 0.5, n), "color": rng.choice(["red", "green", "blue"], n).tolist(),
           "flag": (rng.random(n) < 0.3).tolist()}
    cur = {"stable": rng.normal(0, 1, m), "shifted": rng.normal(0.8, 1, m),
           "scaled": rng.lognormal(0, 0.5, m) * 100, "color": rng.choice(["red", "green", "purple"], m).tolist(),
           "flag": (rng.random(m) < 0.3).tolist()}
    paths = {"ref": tmp / "ref.parquet", "cur_dir": tmp / "cur"}
    pq.write_table(pa.table(ref), paths["ref"])
    paths["cur_dir"].mkdir()
    half = m // 2
    pq.write_table(pa.table({k: v[:half] for k, v in cur.items()}), paths["cur_dir"] / "part-0.parquet")
    pq.write_table(pa.table({k: v[half:] for k, v in cur.items()}), paths["cur_dir"] / "part-1.parquet")
    paths["not_parquet"] = tmp / "notes.parquet"
    paths["not_parquet"].write_text("this is not parquet\n")
    paths["truncated"] = tmp / "truncated.parquet"
    whole = paths["ref"].read_bytes()
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    paths["empty"] = tmp / "empty.parquet"
    pq.write_table(pa.table({k: pa.array([], type=pa.table(ref).schema.field(k).type) for k in ref}), paths["empty"])
    paths["typed"] = tmp / "typed.parquet"
    pq.write_table(pa.table({"stable": [str(v) for v in cur["stable"]], "flag": cur["flag"]}), paths["typed"])
    np.save(tmp / "ref_shifted.npy", ref["shifted"])
    np.save(tmp / "cur_shifted.npy", cur["shifted"])
    paths["tmp"] = tmp
    return paths


def test_compare_table_json_and_verdicts(spark, sources, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(["compare", str(sources["ref"]), str(sources["cur_dir"]), "--json", str(out), "--bins", "10"])
    printed = capsys.readouterr().out
    assert code == 1  # something drifted
    result = json.loads(out.read_text())
    assert result["reference"]["rows"] == 4000 and result["current"]["rows"] == 3000
    assert len(result["reference"]["sha256"]) == 64 and result["reference"]["path"] == str(sources["ref"])
    by_name = {f["name"]: f for f in result["features"]}
    assert set(by_name) == {"stable", "shifted", "scaled", "color", "flag"}
    for f in by_name.values():
        for key in ("name", "kind", "null_rate_ref", "null_rate_cur", "psi", "drifted", "votes"):
            assert key in f
    for name in ("stable", "shifted", "scaled"):
        for key in ("ks", "ks_pvalue", "wasserstein", "mean_ref", "mean_cur", "std_ref", "std_cur"):
            assert key in by_name[name]
    for name in ("color", "flag"):
        for key in ("js_divergence", "chi2_pvalue", "new_categories", "missing_categories"):
            assert key in by_name[name]
    drifted = {name for name, f in by_name.items() if f["drifted"]}
    assert drifted == {"shifted", "scaled", "color"}
    assert by_name["color"]["new_categories"] == 1 and by_name["color"]["missing_categories"] == 1
    a, b = np.load(sources["tmp"] / "ref_shifted.npy"), np.load(sources["tmp"] / "cur_shifted.npy")
    assert by_name["shifted"]["ks"] == pytest.approx(sps.ks_2samp(a, b).statistic, rel=1e-9)
    assert by_name["shifted"]["wasserstein"] == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9)
    assert by_name["shifted"]["std_cur"] == pytest.approx(np.std(b, ddof=1), rel=1e-9)
    for name in by_name:
        assert name in printed
    assert "DRIFTED" in printed and "3 of 5 features drifted" in printed
    # deterministic: the same inputs give the same bytes
    again = tmp_path / "again.json"
    main(["compare", str(sources["ref"]), str(sources["cur_dir"]), "--json", str(again)])
    assert again.read_bytes() == out.read_bytes()


def test_compare_selected_features_only(spark, sources, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["compare", str(sources["ref"]), str(sources["cur_dir"]), "--features", "stable,flag",
                 "--json", str(out)])
    capsys.readouterr()
    assert code == 0
    assert [f["name"] for f in json.loads(out.read_text())["features"]] == ["flag", "stable"]


@pytest.mark.parametrize("case, needle", [
    ("missing", "does-not-exist.parquet"),
    ("not_parquet", "notes.parquet"),
    ("truncated", "truncated.parquet"),
    ("absent_column", "'nope'"),
    ("incompatible", "'stable'"),
    ("empty", "empty"),
])
def test_compare_bad_input_is_one_line_exit_2(spark, sources, tmp_path, capsys, case, needle):
    ref, cur, extra = str(sources["ref"]), str(sources["cur_dir"]), []
    if case == "missing":
        cur = str(tmp_path / "does-not-exist.parquet")
    elif case in ("not_parquet", "truncated"):
        cur = str(sources[case])
    elif case == "absent_column":
        extra = ["--features", "stable,nope"]
    elif case == "incompatible":
        cur, extra = str(sources["typed"]), ["--features", "stable"]
    elif case == "empty":
        cur = str(sources["empty"])
    code = main(["compare", ref, cur, *extra, "--json", str(tmp_path / "never.json")])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not (tmp_path / "never.json").exists()


def test_compare_subprocess_missing_file(tmp_path):
    exe = Path(sys.executable).with_name("drift-audit")
    proc = subprocess.run([str(exe), "compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "a.parquet" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_help_lists_options():
    exe = Path(sys.executable).with_name("drift-audit")
    proc = subprocess.run([str(exe), "compare", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for option in ("--features", "--bins", "--json", "--master"):
        assert option in proc.stdout
