"""The agents' tools over the Model Context Protocol (``proofqueue[mcp]``).

    tool                                   who (role)                    answers
    submit_intent(request_id, target,      agent, operator               SubmitResult (receipt,
                  params, wait_s)                                        new, final)
    get_receipt(request_id)                agent (own), operator, auditor  ReceiptResult
    verify_receipt(receipt)                every role                    VerifyResult
    vendor_health()                        every role                    HealthResult
    list_intents(status, limit)            operator, auditor             IntentList

``submit_intent`` is annotated idempotent, not destructive, open world (it buys from the
vendor); the other four read-only. Every tool publishes its output schema and answers
structured content. The caller is the ``--actor`` of ``proofqueue mcp`` (stdio, every role)
or the bearer token's name and role at ``/mcp`` in ``serve`` (streamable HTTP, the HTTP
API's tokens). Refusals are tool errors of one line.

The modules: ``server`` (``build_server``, the annotations), ``tools`` (the five tools),
``results`` (their output models), ``checks`` (checking a receipt offline), ``stdio``
(``proofqueue mcp``), ``http`` (the ``/mcp`` endpoint behind the tokens) and ``mount`` (how
the HTTP app mounts it, importing no part of the SDK).
"""
