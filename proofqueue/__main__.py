"""``python -m proofqueue``: the same as the ``proofqueue`` command."""

from proofqueue.adapters.cli import main

main()
