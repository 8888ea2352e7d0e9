"""A service's compute: an ECS Fargate worker, a Lambda worker, or (ingest) an HTTP front."""
