"""Dagster wiring only: partitions, resources, the IO manager, assets, checks, sensors and schedules."""
