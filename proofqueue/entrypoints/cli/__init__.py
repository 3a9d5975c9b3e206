"""The ``proofqueue`` command: parse, call one ProofQueue method, print, map errors to exit
codes. Commands are grouped by who uses them; importing them registers them on ``main``."""

from proofqueue.entrypoints.cli import access, agents, audit, intents, operate, processes, sim, tlog
from proofqueue.entrypoints.cli.app import main

__all__ = ["access", "agents", "audit", "intents", "main", "operate", "processes", "sim", "tlog"]
