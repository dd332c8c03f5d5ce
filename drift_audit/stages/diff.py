"""contract_diff: the pinned contract against the schemas and values observed offline and online."""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

from drift_audit.core.contract import Contract
from drift_audit.core.contract_diff import Observed, diff_contract
from drift_audit.spark.observe import value_checks
from drift_audit.stages.samples import PARTITION, Sample


def run(contract: Contract, offline: Sample, online: Sample) -> dict[str, Any]:
    off_df = offline.df.where(F.col("_window") == PARTITION)
    off_checks = value_checks(off_df, F.lit("offline"), contract.features)
    on_checks = value_checks(online.df, F.col("_source"), contract.features)
    sides = [Observed("offline", offline.meta["schema"], {f: c for (f, _), c in off_checks.items()},
                      offline.meta["source"].get("path") or offline.meta["source"].get("table", ""),
                      offline.meta.get("field_metadata", {}))]
    fv_ttl = None
    for name, info in sorted(online.meta["sources"].items()):
        side_checks = {f: c for (f, s), c in on_checks.items() if s == name}
        sides.append(Observed(name, info["schema"], side_checks, info["declared_by"], info.get("field_metadata", {})))
        fv_ttl = info.get("ttl_seconds", fv_ttl)
    rows, findings = diff_contract(contract, sides, fv_ttl)
    checks: dict[str, Any] = {f"{f}|{s}": c.__dict__ | {"not_allowed_examples": [] if contract.feature(f).is_pii else
                                          [list(x) for x in c.not_allowed_examples]}
              for (f, s), c in sorted({**off_checks, **on_checks}.items())}
    return {"feature_group": contract.group, "features": rows, "value_checks": checks,
            "findings": [f.to_dict() for f in findings]}
