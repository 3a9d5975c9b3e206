"""``python -m proofqueue``: the same as the ``proofqueue`` command."""

from proofqueue.entrypoints.cli import main

main()
