"""An injected, transient Spark task failure is retried and the statistics come out the same."""

import json
import subprocess
import sys
import textwrap

from drift_audit.spark.session import with_retries

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    from pyspark.sql import functions as F
    from drift_audit.spark.session import get_spark
    from drift_audit.spark.profile import numeric_summaries

    spark = get_spark("local[2]")
    rng = np.random.default_rng(3)
    pq.write_table(pa.table({"x": rng.normal(0, 1, 3000)}), sys.argv[1] + "/r.parquet", row_group_size=500)
    pq.write_table(pa.table({"x": rng.normal(0.3, 1, 1000), "_source": ["online"] * 1000}),
                   sys.argv[1] + "/c.parquet", row_group_size=250)
    ref, cur = spark.read.parquet(sys.argv[1] + "/r.parquet"), spark.read.parquet(sys.argv[1] + "/c.parquet")
    clean = numeric_summaries(ref, cur, ["x"], ["online"], 10)[("x", "online")]
    # The first task to evaluate this sets a JVM property and fails; every retry finds it set and passes.
    fail_once = F.expr("coalesce(reflect('java.lang.System', 'setProperty', 'drift_audit.fail_once', 'done'), "
                       "'first') != 'done'")
    flaky = ref.withColumn("x", F.when(fail_once, F.raise_error(F.lit("injected task failure"))).otherwise(F.col("x")))
    retried = numeric_summaries(flaky, cur, ["x"], ["online"], 10)[("x", "online")]
    tracker = spark.sparkContext.statusTracker()
    stages = {s for j in tracker.getJobIdsForGroup(None) for s in tracker.getJobInfo(j).stageIds}
    failed = sum(tracker.getStageInfo(s).numFailedTasks for s in stages if tracker.getStageInfo(s))
    print(json.dumps({"master": spark.sparkContext.master, "same": clean == retried, "failed_tasks": failed}))
''')


def test_local_masters_get_task_retries():
    assert with_retries("local[*]") == "local[*,4]" and with_retries("local[2]") == "local[2,4]"
    assert with_retries("local[2,2]") == "local[2,2]" and with_retries("spark://h:7077") == "spark://h:7077"


def test_injected_task_failure_is_retried(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = proc.stdout.strip().splitlines()[-1]
    data = json.loads(result)
    assert data["master"] == "local[2,4]" and data["same"] is True
    assert data["failed_tasks"] >= 1  # the failure really happened, and the retry recovered
