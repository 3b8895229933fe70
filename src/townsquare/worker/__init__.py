"""The durable job queue (procrastinate on the application's own PostgreSQL) and its worker."""
