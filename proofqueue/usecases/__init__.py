"""The use cases behind the ``ProofQueue`` facade, one module per concern: submitting,
reading, operator actions, auditing (verify, show) and replay."""
