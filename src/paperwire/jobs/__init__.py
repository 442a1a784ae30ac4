"""Background work: a durable job queue in the database, the periodic schedule, the worker."""
