"""timeseries_writer: measurements from events into the series store, and a read API over it."""
