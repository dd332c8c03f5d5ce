"""Benchmark of the drift statistics engine against scipy/numpy exact and Evidently's data-drift preset.

One process, the same generated parquet data for every method (numeric features, reference + current):
  engine   drift_audit.spark.profile.numeric_summaries + core.drift scores (Spark local[2])
  scipy    ks_2samp + wasserstein_distance per feature, numpy PSI/JS on the documented binning
  evidently  Report([DataDriftPreset()]) on pandas frames
Each method reads the parquet itself. Reported: wall time, peak memory of the whole process tree (this
process and its children, the Spark JVM included) sampled every 20 ms, the ratios, and the largest
relative difference of the engine's KS and Wasserstein from scipy's. Peak memory is attributed
conservatively: the engine is charged the JVM's whole RSS; the others the tree's growth during their run.

Also: the wide case (1,000 features x 100k rows, engine only), false-positive control (identical
distributions, 1M rows x 200 features), and bounded driver memory (the engine in a subprocess with
spark.driver.memory=1g on the 5M-row reference).

    python bench/bench_stats.py [--parts compare1m,wide,driver1g,compare5m,fp] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BINS = 10
CHUNK = 250_000


# ---------------------------------------------------------------- data
def _feature(rng: np.random.Generator, i: int, rows: int, drift: bool) -> np.ndarray:
    kind = i % 4
    shift = 0.1 if drift and i % 5 == 0 else 0.0
    if kind == 0:
        return rng.normal(shift, 1.0, rows)
    if kind == 1:
        return rng.lognormal(shift, 0.75, rows)
    if kind == 2:
        return np.round(rng.normal(50 + 10 * shift, 10, rows), 1)  # ties
    return rng.standard_t(5, rows) + shift


def generate(path: Path, rows: int, features: int, seed: int, drift: bool) -> Path:
    """Parquet written in chunks, so generation never holds the whole table."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    writer = None
    group = max(1024, (64 << 20) // (8 * features))  # ~64 MB row groups, as Spark writes them
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        table = pa.table({f"x{i:04d}": _feature(rng, i, n, drift) for i in range(features)})
        writer = writer or pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=group)
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


def dataset(out: Path, ref_rows: int, cur_rows: int, features: int, drift: bool = True) -> tuple[Path, Path]:
    name = f"{ref_rows}_{cur_rows}_{features}_{int(drift)}"
    return (generate(out / f"ref_{name}.parquet", ref_rows, features, 1, False),
            generate(out / f"cur_{name}.parquet", cur_rows, features, 2, drift))


# ---------------------------------------------------------------- measuring
def _tree() -> list[psutil.Process]:
    me = psutil.Process()
    return [me, *me.children(recursive=True)]


def _rss(procs: list[psutil.Process], java_only: bool = False) -> int:
    total = 0
    for p in procs:
        try:
            if java_only and "java" not in p.name():
                continue
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(fn: Callable[[], Any], charge_jvm: bool) -> tuple[Any, float, int]:
    """(result, wall seconds, peak bytes attributed to fn)."""
    before = _rss(_tree())
    jvm_before = _rss(_tree(), java_only=True)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss(_tree()))
            done.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        result = fn()
    finally:
        wall = time.perf_counter() - start
        done.set()
        thread.join()
    attributed = peak[0] - before + (jvm_before if charge_jvm else 0)
    return result, wall, attributed


# ---------------------------------------------------------------- methods
def documented_bins(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ra = np.sort(a)
    qa = np.minimum(BINS - 1, BINS * np.searchsorted(ra, a, side="left") // len(a))
    qb = np.minimum(BINS - 1, BINS * np.searchsorted(ra, b, side="left") // len(a))
    return np.bincount(qa, minlength=BINS), np.bincount(qb, minlength=BINS)


def run_scipy(ref: Path, cur: Path) -> dict[str, dict[str, float]]:
    from scipy import stats as sps
    from scipy.spatial.distance import jensenshannon

    r, c = pq.read_table(ref), pq.read_table(cur)
    out = {}
    for name in r.column_names:
        a, b = r[name].to_numpy(), c[name].to_numpy()
        ra, cb = documented_bins(a, b)
        p, q = np.maximum(ra / ra.sum(), 1e-4), np.maximum(cb / cb.sum(), 1e-4)
        out[name] = {"ks": float(sps.ks_2samp(a, b, method="asymp").statistic),
                     "wasserstein": float(sps.wasserstein_distance(a, b)),
                     "psi": float(np.sum((q - p) * np.log(q / p))),
                     "js": float(jensenshannon(ra / ra.sum(), cb / cb.sum(), base=2))}
    return out


def run_evidently(ref: Path, cur: Path) -> int:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    r, c = pq.read_table(ref).to_pandas(), pq.read_table(cur).to_pandas()
    snapshot = Report([DataDriftPreset()]).run(current_data=c, reference_data=r)
    return len(json.dumps(snapshot.dict(), default=str))


def run_engine(spark: Any, ref: Path, cur: Path) -> dict[str, dict[str, Any]]:
    from pyspark.sql import functions as F

    from drift_audit.core import drift
    from drift_audit.core.tiers import thresholds
    from drift_audit.spark.profile import numeric_summaries

    r = spark.read.parquet(str(ref))
    c = spark.read.parquet(str(cur)).withColumn("_source", F.lit("current"))
    summaries = numeric_summaries(r, c, r.columns, ["current"], BINS)
    rows = drift.assess(summaries, {}, {}, drift.DriftPolicy(thresholds(2)), {}, ["current"])
    return {row["name"]: row for row in rows}


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# ---------------------------------------------------------------- parts
def compare(spark: Any, out: Path, ref_rows: int, cur_rows: int, warm: tuple[Path, Path]) -> dict[str, Any]:
    ref, cur = dataset(out, ref_rows, cur_rows, 20)
    for fn in (lambda: run_scipy(*warm), lambda: run_evidently(*warm), lambda: run_engine(spark, *warm)):
        fn()  # imports and JIT warm-up on a small copy, outside the measurement
    exact, t_scipy, m_scipy = measure(lambda: run_scipy(ref, cur), charge_jvm=False)
    _, t_ev, m_ev = measure(lambda: run_evidently(ref, cur), charge_jvm=False)
    engine, t_en, m_en = measure(lambda: run_engine(spark, ref, cur), charge_jvm=True)
    err = {key: max(rel(engine[f][key], exact[f][key]) for f in exact) for key in ("ks", "wasserstein", "psi")}
    err["js"] = max(rel(engine[f]["js_distance"], exact[f]["js"]) for f in exact)
    return {"part": f"compare {ref_rows}+{cur_rows} x 20", "engine_s": t_en, "scipy_s": t_scipy,
            "evidently_s": t_ev, "engine_mb": m_en / 2**20, "scipy_mb": m_scipy / 2**20,
            "evidently_mb": m_ev / 2**20, "evidently_over_engine": t_ev / t_en, "engine_over_scipy": t_en / t_scipy,
            "max_rel_diff_vs_scipy": err, "drifted": sorted(f for f, row in engine.items() if row["drifted"])}


def wide(spark: Any, out: Path) -> dict[str, Any]:
    ref, cur = dataset(out, 100_000, 100_000, 1000)
    engine, t, m = measure(lambda: run_engine(spark, ref, cur), charge_jvm=True)
    return {"part": "wide 100k+100k x 1000", "engine_s": t, "engine_mb": m / 2**20, "features": len(engine),
            "drifted": sum(1 for row in engine.values() if row["drifted"])}


def false_positives(spark: Any, out: Path) -> dict[str, Any]:
    ref, cur = dataset(out, 1_000_000, 250_000, 200, drift=False)
    engine, t, m = measure(lambda: run_engine(spark, ref, cur), charge_jvm=True)
    return {"part": "false positives 1M+250k x 200 identical", "engine_s": t, "engine_mb": m / 2**20,
            "features": len(engine), "false_positives": sum(1 for row in engine.values() if row["drifted"]),
            "ks_test_votes": sum(1 for row in engine.values() if row["methods"]["ks_test"]["vote"])}


def driver_1g(out: Path, features: int) -> dict[str, Any]:
    ref, cur = dataset(out, 5_000_000, 1_250_000, features)
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.bench_stats import run_engine; "
            "from drift_audit.spark.session import get_spark; "
            "s = get_spark('local[2]', driver_memory='1g'); "
            "print(json.dumps({'conf': s.conf.get('spark.driver.memory'), "
            f"'features': len(run_engine(s, {str(ref)!r}, {str(cur)!r}))}}))")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    ok = proc.returncode == 0
    info = json.loads(proc.stdout.strip().splitlines()[-1]) if ok else {"stderr": proc.stderr[-2000:]}
    return {"part": f"driver memory 1g, 5M+1.25M x {features} (subprocess)", "ok": ok, "engine_s": time.perf_counter() - start,
            **info}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="compare1m,wide,driver1g,compare5m,fp")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--driver-memory", default="1g", help="driver (JVM heap) memory of the in-process engine")
    parser.add_argument("--driver-features", type=int, default=20, help="features of the 1g-driver run")
    args = parser.parse_args()
    from drift_audit.spark.session import get_spark

    spark = None
    warm = dataset(args.out, 20_000, 5_000, 20)
    results = args.out / "bench_stats.jsonl"
    for part in args.parts.split(","):
        if part != "driver1g" and spark is None:
            spark = get_spark("local[2]", driver_memory=args.driver_memory)
        if part == "compare1m":
            res = compare(spark, args.out, 1_000_000, 250_000, warm)
        elif part == "compare5m":
            res = compare(spark, args.out, 5_000_000, 1_250_000, warm)
        elif part == "wide":
            res = wide(spark, args.out)
        elif part == "fp":
            res = false_positives(spark, args.out)
        elif part == "driver1g":
            res = driver_1g(args.out, args.driver_features)
        else:
            raise SystemExit(f"unknown part {part}")
        res["load_avg_1m"] = psutil.getloadavg()[0]
        print(json.dumps(res, indent=1), flush=True)
        with open(results, "a") as fh:
            fh.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
