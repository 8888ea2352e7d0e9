"""archiver: every event into the object store, as partitioned gzip NDJSON that Athena/Glue can read."""
