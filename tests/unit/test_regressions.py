"""Regression tests: each pins a bug found in review, now fixed."""

from __future__ import annotations

import json
import string
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from proofqueue import IllegalTransition, InvalidInput, ProofQueue, RetryPolicy, Settings
from proofqueue.adapters.sealing import new_key
from proofqueue.domain.canonical import canonical
from proofqueue.domain.intent import Intent
from proofqueue.domain.sanitize import is_secret_key, sanitize
from proofqueue.ports import Transient
from proofqueue.testing.fakes import Clock, CreatedThenLost, FakeVendor
from tests.unit.test_domain_sanitize import card_numbers, leaks

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# -- sanitize.py: card numbers next to other digits leak ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111 12/28 cvv",
        "qty 2 4111 1111 1111 1111",
    ],
)
def test_a_card_number_followed_or_preceded_by_other_digits_is_still_redacted(text: str) -> None:
    """A Luhn-valid card next to an expiry date or a quantity must not survive sanitize."""
    public, paths = sanitize({"note": text})
    assert "4111 1111 1111 1111" not in json.dumps(public)
    assert paths == ["params.note"]


@settings(max_examples=200, deadline=None)
@given(
    card=card_numbers(),
    before=st.text(alphabet=string.ascii_letters + string.digits + " /", max_size=8),
    after=st.text(alphabet=string.ascii_letters + string.digits + " /", max_size=8),
)
def test_a_generated_card_number_between_any_words_never_survives(
    card: str, before: str, after: str
) -> None:
    """Property form of the bug above: words (digits allowed) separated by a space."""
    public, _ = sanitize({"note": f"{before} {card} {after}"})
    assert not leaks(card, public)


# -- sanitize.py: credentials of a URL with an empty user name leak -----------------------


def test_a_url_password_without_a_user_name_is_redacted() -> None:
    """redis://:password@host is the usual Redis form; the password must not be shown."""
    public, _ = sanitize({"callback": "redis://:hunter2hunter2@cache:6379/0"})
    assert "hunter2hunter2" not in json.dumps(public)


# -- sanitize.py: false positives that refuse ordinary requests ---------------------------


@pytest.mark.parametrize("key", ["business_name", "class_name", "process_name", "max_tokens"])
def test_ordinary_parameter_names_are_not_secret_keys(key: str) -> None:
    """'business_name' contains 'ssn', 'max_tokens' contains 'token': neither is a secret."""
    assert not is_secret_key(key)


def test_a_wallet_address_is_kept_even_when_it_holds_a_luhn_valid_digit_run() -> None:
    """The EIP-55 test-vector address 0x5290...EE7 holds 17 digits that pass Luhn."""
    wallet = "0x52908400098527886E0F7030069857D2E4169EE7"
    assert sanitize({"recipient": wallet}) == ({"recipient": wallet}, [])


def test_ordinary_params_are_accepted_without_a_cipher_key(tmp_path: Path) -> None:
    """End to end: {"business_name": ..., "max_tokens": ...} is not a secret."""
    vendor = FakeVendor()
    with ProofQueue(Settings(store=":memory:"), vendor=vendor, clock=Clock()) as pq:
        receipt = pq.submit(
            "order-1",
            actor="agent",
            target="0xP/logo",
            params={"business_name": "Acme", "max_tokens": 512},
        )
        assert receipt.status == "SUBMITTED"


# -- canonical.py: a non-dict Mapping passes the check, then json.dumps raises TypeError ----


def test_a_mapping_that_is_not_a_dict_is_encoded_or_refused_with_invalid_input() -> None:
    """check_json accepts any Mapping; json.dumps only dicts: TypeError escapes."""
    value = types.MappingProxyType({"a": 1})
    try:
        encoded = canonical(value)
    except InvalidInput:
        return
    assert encoded == b'{"a":1}'


# -- api.py: the idempotency digest depends on whether a cipher key is set ----------------


def test_the_same_request_is_still_the_same_after_a_cipher_key_is_configured(
    tmp_path: Path,
) -> None:
    """An agent re-submitting after the operator set PROOFQUEUE_CIPHER_KEY gets a conflict."""
    store = str(tmp_path / "pq.db")
    vendor = FakeVendor()
    params = {"size": 3}
    with ProofQueue(Settings(store=store), vendor=vendor, clock=Clock()) as before:
        first = before.submit("order-1", actor="agent", target="0xP/logo", params=params)
    keyed = Settings(store=store, cipher_key=SecretStr(new_key()))
    with ProofQueue(keyed, vendor=vendor, clock=Clock()) as after:
        again = after.submit("order-1", actor="agent", target="0xP/logo", params=params)
    assert again == first


# -- dispatcher.py: giving up without the promised last lookup ----------------------------


@pytest.fixture
def pq_one_attempt() -> Iterator[tuple[ProofQueue, FakeVendor, Clock]]:
    vendor, clock = FakeVendor(), Clock()
    settings_ = Settings(store=":memory:", retry=RetryPolicy(max_attempts=1))
    with ProofQueue(settings_, vendor=vendor, clock=clock, rand=lambda: 0.5) as pq:
        yield pq, vendor, clock


def test_an_ambiguous_last_attempt_waits_for_its_lookup_while_the_breaker_holds_calls(
    pq_one_attempt: tuple[ProofQueue, FakeVendor, Clock],
) -> None:
    """The 10th failure trips the breaker: the out-of-budget intent whose job the vendor may
    hold is not failed but waits; once probing starts, the lookup finds the job."""
    pq, vendor, clock = pq_one_attempt
    unavailable = Transient("http", "unavailable", status=503)
    vendor.script(*[unavailable] * 9)
    for n in range(9):
        pq.submit(f"other-{n}", actor="a", target="0xP/logo", params={})
    vendor.script(CreatedThenLost(Transient("http", "boom", status=500, ambiguous=True)))
    receipt = pq.submit("order-1", actor="a", target="0xP/logo", params={})
    assert vendor.jobs_for("order-1"), "the vendor holds a job for order-1"
    assert pq.health().state == "DEGRADED"
    assert receipt.status == "RETRYING"
    assert vendor.calls_of("find") == []
    clock.advance(16)
    pq.parts.guard.sync()  # the worker's round: the open period is over, probing starts
    assert pq.parts.manager is not None
    pq.parts.manager.attempt("order-1")
    assert [c.key for c in vendor.calls_of("find")] == ["order-1"]
    assert len(vendor.calls_of("create")) == 10, "no create after the lookup found the job"
    assert pq.receipt("order-1").status == "SUBMITTED"


def test_an_ambiguous_last_attempt_whose_lookup_fails_is_looked_up_again_not_failed(
    pq_one_attempt: tuple[ProofQueue, FakeVendor, Clock],
) -> None:
    """Out of budget, the last lookup times out: the intent waits and looks again."""
    pq, vendor, clock = pq_one_attempt
    vendor.script(CreatedThenLost(Transient("http", "boom", status=500, ambiguous=True)))
    vendor.lookups.append(Transient("timeout", "read timeout"))
    receipt = pq.submit("order-1", actor="a", target="0xP/logo", params={})
    assert vendor.jobs_for("order-1")
    assert receipt.status == "RETRYING"
    clock.advance(60)
    assert pq.parts.manager is not None
    pq.parts.manager.attempt("order-1")
    assert len(vendor.calls_of("find")) == 2
    assert len(vendor.calls_of("create")) == 1
    assert pq.receipt("order-1").status == "SUBMITTED"


# -- intent.py: operator retry releases a claim that is still in flight -------------------


def test_operator_retry_during_an_attempt_in_flight_keeps_it_safe() -> None:
    """cancel refuses while an attempt is claimed; retry clears the claim without marking the
    intent ambiguous, so the next attempt sends a create without looking up first."""
    intent = Intent.queue(
        request_id="order-1",
        actor="a",
        target="0xP/logo",
        params_public={},
        params_sealed=None,
        params_plain={},
        params_digest="sha256:0",
        max_attempts=12,
        deadline=T0 + timedelta(days=1),
        now=T0,
    )
    intent.start_attempt(worker="w1", lease=timedelta(seconds=30), now=T0)
    try:
        intent.operator_retry(
            operator="bob",
            extra_attempts=12,
            window=timedelta(days=1),
            now=T0 + timedelta(seconds=1),
        )
    except IllegalTransition:
        return
    intent.start_attempt(worker="w2", lease=timedelta(seconds=30), now=T0 + timedelta(seconds=2))
    assert intent.ambiguous, "a second create may go out while the first is still in flight"


@pytest.mark.parametrize(
    ("offset", "older_than", "field"),
    [
        (99999999999999999999, None, "offset"),
        (-1, None, "offset"),
        (0, float("nan"), "older_than"),
        (0, float("inf"), "older_than"),
        (0, -1.0, "older_than"),
    ],
)
def test_list_refuses_offsets_past_a_billion_and_ages_that_are_not_finite(
    offset: int, older_than: float | None, field: str
) -> None:
    """A huge offset or a NaN age is bad input naming the field, never a traceback."""
    with ProofQueue(Settings(store=":memory:")) as pq, pytest.raises(InvalidInput) as refused:
        pq.list(offset=offset, older_than=older_than)
    assert refused.value.field == field


def test_forgetting_read_schedules_while_calls_add_some_does_not_break_the_round() -> None:
    """The worker forgets old schedules while its calls add new ones from other threads:
    no 'dictionary changed size during iteration' (seen in the soak)."""
    import threading

    from proofqueue.process.polls import Polls

    polls = Polls(poll_s=0.5)
    for n in range(200_000):  # a long iteration, so that the other thread runs during it
        polls.due_in(f"old{n}")
    stop = threading.Event()

    def add() -> None:
        n = 0
        while not stop.is_set():
            polls.due_in(f"r{n}")
            polls.done(f"r{n - 50}")
            n += 1

    adder = threading.Thread(target=add)
    adder.start()
    try:
        for _ in range(3):
            polls.forget({f"old{n}" for n in range(200_000)})
    finally:
        stop.set()
        adder.join()


def test_a_heartbeat_reports_only_the_read_schedules_that_moved() -> None:
    """next_reads answers each job once until its schedule moves: a heartbeat does not
    rewrite every followed job every second."""
    from proofqueue.process.decisions import PollAgain
    from proofqueue.process.polls import Polls

    polls = Polls(poll_s=0.5)
    polls.due_in("a")
    polls.due_in("b")
    assert len(polls.next_reads()) == 2
    assert polls.next_reads() == {}
    polls.again("a", PollAgain(1.0, 0))
    assert len(polls.next_reads()) == 1


def test_a_job_no_longer_followed_is_reported_once_so_its_row_goes() -> None:
    """A settled job's read schedule is reported as None once (the heartbeat deletes its
    ``pq_work`` row), then never again."""
    from proofqueue.domain.intent import intent_id
    from proofqueue.process.polls import Polls

    polls = Polls(poll_s=0.5)
    polls.due_in("a")
    polls.due_in("b")
    polls.next_reads()
    polls.done("a")
    assert polls.next_reads() == {str(intent_id("a")): None}
    assert polls.next_reads() == {}
