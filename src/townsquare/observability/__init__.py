"""Logs, request ids and metrics: what an operator sees of a running Townsquare.

`logs` routes every log line (ours, uvicorn's, SQLAlchemy's, procrastinate's) through one
structlog formatter; `requests` adds the request id and one line and one measurement per
request; `jobs` does the same per job; `metrics` holds the Prometheus metrics and `/metrics`.
"""
