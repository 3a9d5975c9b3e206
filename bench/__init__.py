"""Benchmarks: proofqueue side by side with raw SQLite, plain httpx and DBOS Transact.

Run ``make bench`` (or ``.venv/bin/python -m bench.run --quick``). Every measurement runs in
its own child process (``bench.child``) so that peak memory, imports and global state (DBOS is
a singleton) never leak from one measurement into the next.
"""
