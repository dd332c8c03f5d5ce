"""PySpark only: DataFrames in, small summaries out. No Python UDFs; only bounded results reach the driver."""
