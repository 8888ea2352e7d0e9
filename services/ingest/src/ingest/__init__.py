"""ingest: the platform's HTTP front door. Validates events against their contracts, puts them on the bus."""
