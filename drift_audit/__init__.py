"""drift_audit: audit a Feast feature store for training-serving skew, orchestrated by Dagster, on Spark."""

__version__ = "0.1.0"
