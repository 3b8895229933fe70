"""`make bench`: the load driver and report of the benchmark (run it with bench/run.py)."""
