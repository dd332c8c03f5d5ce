"""One module per audit stage: plain functions that combine core, spark and adapters.

Dagster assets (defs/assets) and the CLI call these; none of them imports Dagster.
"""
