"""The time window of a partition (a day) and of its reference period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class PartitionWindow:
    day: date
    reference_days: int

    @property
    def start(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)

    @property
    def reference_start(self) -> datetime:
        return self.start - timedelta(days=self.reference_days)

    @property
    def file_days(self) -> tuple[date, date]:
        """Days of date-partitioned files to read (one day of slack on each side for late rows)."""
        return (self.day - timedelta(days=self.reference_days + 1), self.day + timedelta(days=1))

    def describe(self) -> dict[str, str]:
        return {"partition_start": self.start.isoformat(), "partition_end": self.end.isoformat(),
                "reference_start": self.reference_start.isoformat()}


def parse_day(text: str) -> date:
    return date.fromisoformat(text)
