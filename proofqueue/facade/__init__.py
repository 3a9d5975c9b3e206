"""The ``ProofQueue`` facade's methods, grouped by concern; ``proofqueue.api`` puts them
together. Each method validates its arguments and calls one use case."""
