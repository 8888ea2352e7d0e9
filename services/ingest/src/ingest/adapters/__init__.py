"""ingest's adapters: the EventBridge publisher."""
