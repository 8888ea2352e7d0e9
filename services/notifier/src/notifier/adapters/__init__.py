"""notifier's adapters: SQLite and DynamoDB state stores; SNS, webhook and log channels."""
