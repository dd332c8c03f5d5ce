"""offline_sample and online_sample assets: thin wrappers over stages.samples (docs/sampling.md)."""

from typing import Any

from dagster import AssetExecutionContext, MetadataValue, Output, asset

from drift_audit.defs.assets.common import ASSET_KW, contract_from, partition, pinned
from drift_audit.defs.checks import ONLINE_KEY_COVERAGE, result, specs
from drift_audit.defs.resources import AuditSettings, FeastResource, SparkResource
from drift_audit.spark.sample import frame_hash
from drift_audit.stages import samples


@asset(code_version="2", **ASSET_KW)
def offline_sample(context: AssetExecutionContext, settings: AuditSettings, spark: SparkResource,
                   feast: FeastResource, contract_snapshot: dict[str, Any]) -> Output:
    """Offline rows of the reference window and the partition day, sampled by a seeded entity hash."""
    p = partition(context, settings)
    contract = contract_from(contract_snapshot)
    store = feast.store() if p.cfg.group(p.group).offline.format == "feast" else None
    sample = samples.offline(p.cfg, spark.session(), contract, p.window, store)
    _rows, content = frame_hash(sample.df)
    sample.meta["sha256"] = content
    return pinned(sample, {"source": sample.meta["source"]["sha256"], "contract": contract_snapshot["contract_sha256"]},
                  content, rows_partition=sample.meta["rows"]["partition"],
                  rows_reference=sample.meta["rows"]["reference"], rate=sample.meta["rate"],
                  seed=sample.meta["seed"], source_sha256=sample.meta["source"]["sha256"],
                  findings=len(sample.meta["findings"]))


@asset(code_version="2", check_specs=specs("online_sample", [ONLINE_KEY_COVERAGE]), **ASSET_KW)
def online_sample(context: AssetExecutionContext, settings: AuditSettings, spark: SparkResource,
                  feast: FeastResource, contract_snapshot: dict[str, Any], offline_sample: samples.Sample):
    """Online values of the sampled entities from every online source, aligned point-in-time with offline."""
    p = partition(context, settings)
    contract = contract_from(contract_snapshot)
    staging = p.cfg.output_root / "_staging" / p.day / p.group
    sample = samples.online(p.cfg, spark.session(), contract, p.window, offline_sample, staging, feast.store())
    rows, content = frame_hash(sample.df)
    sample.meta["sha256"] = content
    sample.meta["rows"] = {"aligned": rows}
    sources = sample.meta["sources"]
    yield pinned(sample, {"offline_sample": offline_sample.meta["sha256"],
                          **{f"source:{k}": v["sha256"] for k, v in sources.items()}}, content,
                 rows=rows, sources=MetadataValue.json(sources), findings=len(sample.meta["findings"]))
    requested = sum(s.get("keys_requested", 0) for s in sources.values())
    missing = sum(s.get("keys_missing", 0) for s in sources.values())
    yield result(ONLINE_KEY_COVERAGE, missing == 0, contract.risk_tier, missing, 0, keys_requested=requested)
