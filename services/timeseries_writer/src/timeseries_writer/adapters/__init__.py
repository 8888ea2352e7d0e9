"""timeseries_writer's adapters: DuckDB (the embedded default), Timestream and Timestream for InfluxDB."""
