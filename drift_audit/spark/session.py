"""One SparkSession per process, configured for exact, reproducible audits."""

from __future__ import annotations

import os
import re

from pyspark.sql import SparkSession

TASK_ATTEMPTS = 4
_LOCAL = re.compile(r"^local\[(\*|\d+)\]$")


def with_retries(master: str, attempts: int = TASK_ATTEMPTS) -> str:
    """`local[N]` never retries a failed task; `local[N,F]` does, like a cluster with spark.task.maxFailures."""
    match = _LOCAL.match(master)
    return f"local[{match.group(1)},{attempts}]" if match else master

DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.task.maxFailures": "4",
    # pandas writes nanosecond timestamps, which Spark 3.3 cannot read as timestamps: read them as longs
    # and convert in spark.io.read_parquet.
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}


def get_spark(master: str = "local[*]", conf: dict[str, str] | None = None,
              driver_memory: str | None = None) -> SparkSession:
    """The process's session; `master` and memory only apply when the JVM is first started."""
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON") or "python3")
    builder = SparkSession.builder.master(with_retries(master)).appName("drift_audit")
    local = master.startswith("local")
    settings = {**DEFAULTS, **({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
                               if local else {}), **(conf or {})}
    if driver_memory:
        settings["spark.driver.memory"] = driver_memory
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
