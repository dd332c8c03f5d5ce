"""The demo: a Feast feature store with known training-serving defects (see docs/demo.md)."""
