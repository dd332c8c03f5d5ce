"""One partition = one day x one feature group. Feature groups are dynamic: contracts add them."""

from __future__ import annotations

import os

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

DATE, GROUP = "date", "feature_group"
START_ENV = "DRIFT_AUDIT_PARTITIONS_START"
DEFAULT_START = "2026-01-01"

FEATURE_GROUPS = "feature_group"
feature_groups = DynamicPartitionsDefinition(name=FEATURE_GROUPS)
audit_partitions = MultiPartitionsDefinition({
    DATE: DailyPartitionsDefinition(start_date=os.environ.get(START_ENV, DEFAULT_START)),
    GROUP: feature_groups,
})


def split(partition_key: str) -> tuple[str, str]:
    """(date, feature_group) of a partition key, whichever form Dagster hands over."""
    dims = getattr(partition_key, "keys_by_dimension", None)
    if dims:
        return dims[DATE], dims[GROUP]
    date, group = str(partition_key).split("|", 1)
    return date, group


def key(date: str, group: str) -> MultiPartitionKey:
    return MultiPartitionKey({DATE: date, GROUP: group})
