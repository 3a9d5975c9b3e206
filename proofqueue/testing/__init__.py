"""Test doubles for people who embed proofqueue: a scripted vendor that records every call,
a clock moved by hand, and (with the ``server`` extra) the fault-injecting vendor simulator.

    from proofqueue import ProofQueue, Settings
    from proofqueue.testing import Clock, FakeVendor

    vendor, clock = FakeVendor(), Clock()
    with ProofQueue(Settings(store=":memory:"), vendor=vendor, clock=clock) as pq:
        pq.submit("order-1", actor="agent", target="0xProvider/logo", params={})
        assert [call.kind for call in vendor.calls] == ["create"]

The simulator is imported from ``proofqueue.testing.simulator`` (it needs starlette and
uvicorn: ``pip install 'proofqueue[server]'``).
"""

from proofqueue.testing.fakes import Call, Clock, CreatedThenLost, FakeVendor

__all__ = ["Call", "Clock", "CreatedThenLost", "FakeVendor"]
