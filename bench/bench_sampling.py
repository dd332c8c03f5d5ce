"""Sampling at scale: 10M offline rows, ~100k online keys (SQLite, and Redis when redis-server is installed).

Runs the offline_sample and online_sample stages the way the assets do (stage, content hash, byte-stable
write through the IO manager's writer) and, on the same data in the same process, peers:

- offline: a scan of the window that sums one column (the floor any sampler pays; run once before to warm
  the JVM), and Spark's own row sampling (`DataFrame.sample`, rand()-based, not entity-consistent)
  with the same window filter, written as plain parquet;
- online: the same keys read from Feast in one request instead of batches.

Prints rows/s (keys/s online) and the peak resident memory of the whole process tree (Python and the Spark
JVM), sampled every 50 ms with psutil. The stages collect no data rows to the driver: only per-window and
per-source counts, hashes and quantiles, plus the sampled entity keys that a key-value store must be asked
for (bounded by the sample, keys only). Setup (generating data, filling online stores) is timed apart.

    python bench/bench_sampling.py [--rows 10000000] [--rate 0.1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pyspark.sql import functions as F

from drift_audit.adapters import feast_store
from drift_audit.config import Config, load_config
from drift_audit.defs.io_manager import write_sample
from drift_audit.spark.sample import frame_hash
from drift_audit.spark.session import get_spark
from drift_audit.stages import contracts, samples
from drift_audit.stages.window import PartitionWindow

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "sampling"
DAY = date(2026, 3, 10)
DAYS = 10
GROUP = "transactions"
CATEGORIES = np.array(["grocery", "travel", "electronics", "dining", "fuel", "other"])


class PeakMemory:
    """Peak summed RSS of this process and all its descendants (the Spark JVM among them)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            time.sleep(self.every)

    def __enter__(self) -> PeakMemory:
        self.peak = self._tree_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Result:
    name: str
    items: int
    unit: str
    seconds: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def line(self) -> str:
        return (f"{self.name:<46} {self.items:>11,} {self.unit:<5} {self.seconds:8.1f} s "
                f"{self.rate:>12,.0f} {self.unit}/s   peak {self.peak_mb:7.0f} MB")


def measure(name: str, items: int, unit: str, fn: Callable[[], Any]) -> tuple[Result, Any]:
    with PeakMemory() as mem:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    result = Result(name, items, unit, seconds, mem.peak / 2**20)
    print(result.line(), flush=True)
    return result, value


def generate(root: Path, rows: int) -> int:
    """`rows` offline rows: DAYS days of one row per entity a day, one parquet file per day (hive folders)."""
    entities = rows // DAYS
    rng = np.random.default_rng(20260310)
    for i in range(DAYS):
        day = DAY - timedelta(days=DAYS - 1 - i)
        ids = np.arange(1, entities + 1, dtype="int64")
        start = np.datetime64(datetime(day.year, day.month, day.day), "us")
        event = start + ((3600 + ids % 72_000) * 1_000_000).astype("timedelta64[us]")
        table = pa.table({
            "customer_id": ids,
            "event_ts": pa.array(event, pa.timestamp("us", tz="UTC")),
            "created_ts": pa.array(event + np.timedelta64(15, "m"), pa.timestamp("us", tz="UTC")),
            "txn_amount_usd": np.round(rng.lognormal(3.8, 0.6, entities), 2),
            "txn_count_7d": rng.poisson(12, entities).astype("int64"),
            "last_txn_hour": rng.integers(0, 24, entities).astype("int32"),
            "avg_txn_amount_30d": np.round(rng.lognormal(3.8, 0.3, entities), 4),
            "merchant_category": CATEGORIES[rng.integers(0, len(CATEGORIES), entities)],
            "chargeback_rate_90d": np.round(rng.beta(1, 60, entities), 6),
        })
        folder = root / "offline" / GROUP / f"date={day.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-00000.parquet", row_group_size=250_000)
    return entities * DAYS


def write_config(rate: float, online: list[dict[str, Any]]) -> Path:
    raw = {
        "output_dir": "result", "allowed_roots": [str(REPO)],
        "contracts": {"root": str(REPO / "contracts")},
        "spark": {"master": "local[2]", "driver_memory": "3g", "conf": {"spark.sql.shuffle.partitions": "8"}},
        "feast": {"repo_path": str(REPO / "demo" / "feature_repo"), "project": "bench_sampling",
                  "registry": "data/feast/registry.db", "online_store": {"type": "sqlite", "path": "data/feast/online.db"}},
        "mlflow": {"tracking_uri": "sqlite:///data/mlflow.db"},
        "audit": {"reference_days": DAYS - 1, "seed": 17},
        "groups": {GROUP: {"offline": {"path": f"data/offline/{GROUP}"}, "online": online, "sample_rate": rate}},
    }
    path = OUT / "drift_audit.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@contextmanager
def redis_server() -> Iterator[int | None]:
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(OUT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


def fill_online(cfg: Config, sample: samples.Sample, settings: dict[str, Any] | None) -> tuple[int, float]:
    """Setup: write the sampled entities' values of the day into a Feast online store."""
    from drift_audit.config import OnlineStoreSettings

    fs = feast_store.open_store(cfg, OnlineStoreSettings(**settings) if settings else None)
    day = sample.df.where("_window = 'partition'").drop("_window").toPandas()  # setup only, not measured
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.apply(feast_store.load_definitions(cfg, OUT / "data"))
        fs.write_to_online_store(GROUP, day)
    return len(day), time.perf_counter() - start


def bench_online(cfg: Config, spark: Any, contract: Any, window: PartitionWindow, off: samples.Sample, name: str,
                 settings: dict[str, Any] | None, rate: float) -> list[Result]:
    """Fill one online store with the sampled entities' values, then time reads and the online stage."""
    n, seconds = fill_online(cfg, off, settings)
    print(f"setup: wrote {n:,} values into the {name} online store in {seconds:.1f} s", flush=True)
    source: dict[str, Any] = {"name": name, "kind": "feast", **({"online_store": settings} if settings else {})}
    ocfg = load_config(write_config(rate, [source]))
    keys = samples.sample_keys(off.df, list(contract.entity_keys))
    store = feast_store.open_store(ocfg, ocfg.groups[GROUP].online[0].online_store)
    features = feast_store.feature_view_info(store, GROUP).schema
    key_types = {"customer_id": pa.int64()}

    def online_stage() -> samples.Sample:
        sample = samples.online(ocfg, spark, contract, window, off, OUT / "staging")
        rows, sample.meta["sha256"] = frame_hash(sample.df)
        sample.meta["rows"] = {"aligned": rows}
        write_sample(sample, ocfg.output_root / f"online_sample_{name}")
        sample.df.unpersist()
        return sample

    out = [
        measure(f"peer: Feast {name}, all keys in one request", len(keys), "keys",
                lambda: feast_store.read_online(store, GROUP, features, key_types, keys, len(keys)))[0],
        measure(f"Feast {name} read, batches of {ocfg.feast.entity_key_batch}", len(keys), "keys",
                lambda: feast_store.read_online(store, GROUP, features, key_types, keys,
                                                ocfg.feast.entity_key_batch))[0],
    ]
    result, on = measure(f"online_sample ({name}): read + align + write", len(keys), "keys", online_stage)
    info = on.meta["sources"][name]
    print(f"  {info['rows']:,} values, {info['keys_missing']:,} keys missing, "
          f"{info['freshness']['aligned']:,} aligned point-in-time")
    return [*out, result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rate", type=float, default=0.1)
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "data").mkdir(parents=True)
    start = time.perf_counter()
    rows = generate(OUT / "data", args.rows)
    print(f"setup: generated {rows:,} offline rows in {time.perf_counter() - start:.1f} s", flush=True)
    cfg = load_config(write_config(args.rate, [{"name": "sqlite", "kind": "feast"}]))
    spark = get_spark(cfg.spark.master, cfg.spark.conf, cfg.spark.driver_memory)
    contract = contracts.contract_of(contracts.snapshot(cfg, GROUP))
    window = PartitionWindow(DAY, cfg.audit.reference_days)
    results: list[Result] = []
    print(f"\n{'':<46} {'items':>11} {'':<5} {'time':>10} {'throughput':>19}")

    def offline_stage() -> samples.Sample:
        sample = samples.offline(cfg, spark, contract, window)
        sample.meta["sha256"] = frame_hash(sample.df)[1]
        write_sample(sample, cfg.output_root / "offline_sample")
        return sample

    def spark_sample_peer() -> None:
        df = spark.read.parquet(str(OUT / "data" / "offline" / GROUP))
        ev = df["event_ts"]
        df = df.where((ev >= window.reference_start) & (ev < window.end)).sample(False, args.rate, seed=17)
        df.write.mode("overwrite").parquet(str(OUT / "peer_sample"))

    def scan_floor() -> None:
        ev = F.col("event_ts")
        spark.read.parquet(str(OUT / "data" / "offline" / GROUP)).where(
            (ev >= window.reference_start) & (ev < window.end)).agg(F.sum("txn_amount_usd")).collect()

    scan_floor()  # warm-up: the first job pays for JIT and code generation
    r, _ = measure("floor: read + filter + sum one column", rows, "rows", scan_floor)
    results.append(r)
    r, _ = measure("peer: DataFrame.sample (rand) + write", rows, "rows", spark_sample_peer)
    results.append(r)
    r, off = measure("offline_sample: hash sample + hash + write", rows, "rows", offline_stage)
    results.append(r)
    sampled = sum(off.meta["rows"].values())
    print(f"  sampled {sampled:,} rows at rate {off.meta['rate']} ({off.meta['rows']['partition']:,} on the day)")

    stores: dict[str, dict[str, Any] | None] = {"sqlite": None}
    with redis_server() as port:
        if port is not None:
            stores["redis"] = {"type": "redis", "connection_string": f"127.0.0.1:{port}"}
        else:
            print("  (redis-server not installed: Redis skipped)")
        for name, settings in stores.items():
            results += bench_online(cfg, spark, contract, window, off, name, settings, args.rate)
    off.df.unpersist()

    by = {r.name: r for r in results}
    peer, ours = by["peer: DataFrame.sample (rand) + write"], by["offline_sample: hash sample + hash + write"]
    floor = by["floor: read + filter + sum one column"]
    print(f"\nratio offline_sample / DataFrame.sample time: {ours.seconds / peer.seconds:.2f}; "
          f"/ read floor: {ours.seconds / floor.seconds:.2f}")
    for name in stores:
        one = by[f"peer: Feast {name}, all keys in one request"]
        batched = next(r for r in results if r.name.startswith(f"Feast {name} read"))
        print(f"ratio Feast {name} batched / one request time: {batched.seconds / one.seconds:.2f}")
    (OUT / "results.json").write_text(json.dumps([r.__dict__ | {"rate": r.rate} for r in results], indent=1))
    print(f"\n{len(results)} measurements; no data rows were collected to the driver by the stages "
          "(bounded counts/hashes/quantiles, and the sampled entity keys for the key-value lookups)")



if __name__ == "__main__":
    main()
