"""archiver's adapters: S3."""
