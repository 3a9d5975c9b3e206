"""The read side on real stores: replay and its checks, the operator list, health, show,
operator actions and bad input, all through the `proofqueue` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from proofqueue import JsonValue
from tests.integration.helpers import (
    Clock,
    RawStore,
    assert_clean_refusal,
    log_counts,
    make_trail,
    open_queue,
    run_cli,
    run_cli_many,
)

LIST_ROW = {
    "request_id",
    "status",
    "actor",
    "target",
    "attempts",
    "last_error",
    "next_attempt_at",
    "queued_at",
    "age_s",
}
HEALTH = {
    "state",
    "since",
    "failure_ratio",
    "calls_in_window",
    "window_s",
    "backlog",
    "oldest_queued_age_s",
    "transitions",
}
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def seed_list(store: str) -> None:
    """Four intents of two actors and three targets, two queued two hours ago.

    old-1 QUEUED    alice  prov/logo    (2 h ago)
    old-2 FAILED    bob    prov/logo    (2 h ago, cancelled)
    new-1 RETRYING  alice  prov/banner  (now, operator retry)
    new-2 QUEUED    bob    other/logo   (now)
    """
    clock = Clock(datetime.now(UTC) - timedelta(hours=2))
    with open_queue(store, clock=clock) as pq:
        make_trail(pq, "old-1", actor="alice", target="prov/logo")
        clock.advance(1)
        make_trail(pq, "old-2", actor="bob", target="prov/logo", cancel=True)
        clock.now = datetime.now(UTC)
        make_trail(pq, "new-1", actor="alice", target="prov/banner", retries=1)
        clock.advance(1)
        make_trail(pq, "new-2", actor="bob", target="other/logo")


def ids(rows: list[dict[str, object]]) -> list[object]:
    return [row["request_id"] for row in rows]


# -- replay ---------------------------------------------------------------------------------


def test_replay_check_exits_0_when_the_views_match_the_log(store: str) -> None:
    """On a store written only by proofqueue, the rebuilt views equal the live ones."""
    seed_list(store)

    ran = run_cli(store, "replay", "--check", "--json")

    assert ran.code == 0, str(ran)
    report = ran.json()
    assert report["ok"] is True
    assert report["differences"] == []
    assert report["events"] == 6


def test_replay_check_exits_1_naming_the_row_and_column_of_a_hand_edited_view(
    store: str,
) -> None:
    """A live view row edited behind the log's back is named by request_id and column."""
    seed_list(store)
    with open_queue(store) as pq:
        pq.catch_up()
    raw = RawStore(store)
    raw.execute("UPDATE pq_intents SET status = 'SETTLED' WHERE request_id = 'old-1'")
    raw.execute("UPDATE pq_intents SET attempts = 7 WHERE request_id = 'new-1'")

    text, as_json = run_cli_many(store, [("replay", "--check"), ("replay", "--check", "--json")])

    assert text.code == 1, str(text)
    lines = text.stdout.splitlines()
    assert any("old-1" in line and "status" in line for line in lines), str(text)
    assert any("new-1" in line and "attempts" in line for line in lines), str(text)
    assert not any("old-2" in line or "new-2" in line for line in lines), str(text)
    assert as_json.code == 1, str(as_json)
    differences = as_json.json()["differences"]
    assert len(differences) == 2, differences
    assert any("old-1" in d and "status" in d and "SETTLED" in d for d in differences)


def test_replay_as_of_shows_intents_as_they_were_before_a_later_cancel(store: str) -> None:
    """`replay --as-of T` lists what was true at T: queued then, failed only later."""
    clock = Clock(T0)
    with open_queue(store, clock=clock) as pq:
        pq.submit("early", actor="agent-7", target="prov/logo")
        clock.advance(45 * 60)
        pq.submit("late", actor="agent-7", target="prov/logo")
        clock.advance(15 * 60)
        pq.cancel("early", reason="changed my mind", operator="ops-alice")
    middle, after = "2024-03-01T10:30:00Z", "2024-03-01T11:30:00+00:00"

    text, as_json, later = run_cli_many(
        store,
        [
            ("replay", "--as-of", middle),
            ("replay", "--as-of", middle, "--json"),
            ("replay", "--as-of", after, "--json"),
        ],
    )

    assert text.code == 0, str(text)
    assert "as of 2024-03-01T10:30:00+00:00" in text.stdout
    early = next(line for line in text.stdout.splitlines() if "early" in line)
    assert "QUEUED" in early
    assert "late" not in text.stdout
    assert "FAILED" not in text.stdout
    assert as_json.code == 0, str(as_json)
    view = as_json.json()
    assert {"as_of", "intents", "health"} <= set(view)
    assert datetime.fromisoformat(view["as_of"]) == T0 + timedelta(minutes=30)
    assert [(r["request_id"], r["status"]) for r in view["intents"]] == [("early", "QUEUED")]
    assert set(view["intents"][0]) >= LIST_ROW
    assert view["intents"][0]["age_s"] == 1800
    assert set(view["health"]) >= HEALTH
    assert view["health"]["backlog"] == 1
    assert later.code == 0, str(later)
    rows = {r["request_id"]: r["status"] for r in later.json()["intents"]}
    assert rows == {"early": "FAILED", "late": "QUEUED"}


# -- list, health, show ---------------------------------------------------------------------


def test_list_filters_by_status_actor_target_age_and_pages_queued_first(store: str) -> None:
    """`list --json` rows have the documented fields, filter as asked, queued first."""
    seed_list(store)
    queries = {
        "all": (),
        "open": ("--status", "QUEUED,RETRYING"),
        "alice": ("--actor", "alice"),
        "prov/logo": ("--target", "prov/logo"),
        "older": ("--older-than", "3600"),
        "page": ("--limit", "2", "--offset", "1"),
    }

    answers = dict(
        zip(
            queries,
            run_cli_many(store, [("list", "--json", *args) for args in queries.values()]),
            strict=True,
        )
    )

    for name, ran in answers.items():
        assert ran.code == 0, f"{name}: {ran}"
    rows = {name: ran.json() for name, ran in answers.items()}
    assert ids(rows["all"]) == ["old-1", "new-2", "new-1", "old-2"]
    assert ids(rows["open"]) == ["old-1", "new-2", "new-1"]
    assert ids(rows["alice"]) == ["old-1", "new-1"]
    assert ids(rows["prov/logo"]) == ["old-1", "old-2"]
    assert ids(rows["older"]) == ["old-1", "old-2"]
    assert ids(rows["page"]) == ["new-2", "new-1"]
    by_id = {row["request_id"]: row for row in rows["all"]}
    assert all(set(row) >= LIST_ROW for row in rows["all"])
    assert by_id["old-2"]["status"] == "FAILED"
    assert by_id["old-2"]["last_error"] == "cancelled: no longer needed"
    assert by_id["old-2"]["next_attempt_at"] is None
    assert by_id["new-1"]["status"] == "RETRYING"
    assert by_id["new-1"]["next_attempt_at"] is not None
    assert by_id["old-1"]["age_s"] >= 7200 > by_id["new-2"]["age_s"]
    assert by_id["old-1"]["attempts"] == 0
    datetime.fromisoformat(by_id["old-1"]["queued_at"])


def test_health_json_has_the_documented_fields_and_counts_the_backlog(store: str) -> None:
    """`health --json` shows the breaker OK (no vendor calls) and the open backlog."""
    seed_list(store)

    ran = run_cli(store, "health", "--json")

    assert ran.code == 0, str(ran)
    view = ran.json()
    assert set(view) >= HEALTH
    assert view["state"] == "OK"
    assert view["backlog"] == 3
    assert view["oldest_queued_age_s"] >= 7200
    assert view["transitions"] == []
    assert view["calls_in_window"] == 0


def test_retry_and_cancel_appear_in_show_with_the_operators_name(store: str) -> None:
    """Operator actions are recorded in the trail, named, and `show --json` has its shape."""
    with open_queue(store) as pq:
        queued = pq.submit("order-op", actor="agent-7", target="prov/logo", params={"n": 1})

    retried = run_cli(store, "retry", "order-op", "--operator", "ops-alice", "--json")
    cancelled = run_cli(
        store, "cancel", "order-op", "--reason", "vendor gone", "--operator", "ops-bob", "--json"
    )
    text, as_json = run_cli_many(store, [("show", "order-op"), ("show", "order-op", "--json")])

    assert retried.code == 0, str(retried)
    assert retried.json()["status"] == "RETRYING"
    assert cancelled.code == 0, str(cancelled)
    assert cancelled.json()["status"] == "FAILED"
    assert text.code == 0, str(text)
    assert "ops-alice" in text.stdout
    assert "ops-bob" in text.stdout
    assert "vendor gone" in text.stdout
    trail = as_json.json()
    assert set(trail) >= {"request_id", "status", "events"}
    assert (trail["request_id"], trail["status"]) == ("order-op", "FAILED")
    events = trail["events"]
    assert [e["type"] for e in events] == ["Queued", "RetryScheduled", "Failed"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert all(set(e) >= {"seq", "type", "at", "fields", "hash"} for e in events)
    assert all(len(e["hash"]) == 64 for e in events)
    assert events[0]["hash"] == queued.proof
    assert events[-1]["hash"] == cancelled.json()["proof"]
    assert events[1]["fields"]["operator"] == "ops-alice"
    assert events[2]["fields"]["operator"] == "ops-bob"
    assert events[2]["fields"]["detail"] == "vendor gone"
    assert "params_plain" not in events[0]["fields"]


def test_operator_actions_on_an_unknown_request_id_exit_3(store: str) -> None:
    """cancel and retry of a request_id never submitted exit 3 on one line."""
    commands = [
        ("cancel", "no-such", "--reason", "x", "--operator", "ops"),
        ("retry", "no-such", "--operator", "ops"),
    ]

    for ran in run_cli_many(store, commands):
        assert_clean_refusal(ran, 3, "no-such")
    assert log_counts(store) == (0, 0)


def test_cancel_of_a_submitted_or_failed_intent_exits_2_and_writes_nothing(store: str) -> None:
    """Cancel is refused once the vendor holds a job, or the intent is already final."""
    clock = Clock()
    with open_queue(store, clock=clock) as pq:
        pq.submit("held", actor="agent-7", target="prov/logo")
        intent = pq.parts.log.intent("held")  # what a worker records when the vendor accepts
        intent.start_attempt(worker="test", lease=timedelta(seconds=30), now=clock.advance(1))
        intent.submit(job_id="job-1", replayed=False, reconciled=None, now=clock.advance(1))
        pq.parts.log.save(intent)
        make_trail(pq, "done", cancel=True)
    before = log_counts(store)

    held, done = run_cli_many(
        store,
        [
            ("cancel", "held", "--reason", "too late", "--operator", "ops"),
            ("cancel", "done", "--reason", "again", "--operator", "ops"),
        ],
    )

    assert "vendor already holds" in assert_clean_refusal(held, 2, "held", "SUBMITTED")
    assert_clean_refusal(done, 2, "done", "FAILED")
    assert log_counts(store) == before == (2, 5)


# -- bad input ------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, JsonValue]:
    value: dict[str, JsonValue] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_bad_submit_input_exits_2_with_one_line_naming_the_field_and_writes_nothing(
    store: str,
) -> None:
    """Each invalid field is refused before anything is stored, with no traceback."""
    with open_queue(store) as pq:
        pq.submit("keep", actor="agent-7", target="prov/logo")
    good = {"--request-id": "new-one", "--actor": "agent-7", "--target": "prov/logo"}

    def submit(*extra: str, **fields: str) -> tuple[str, ...]:
        flags = {**good, **{f"--{k.replace('_', '-')}": v for k, v in fields.items()}}
        return ("submit", *[part for pair in flags.items() for part in pair], *extra)

    cases = {
        "request_id": submit(request_id="has space"),
        "actor": submit(actor=""),
        "target": submit(target="no-slash"),
        "params-json": submit("--params-json", "[1, 2]"),
        "params": submit("--params-json", json.dumps(nested(17))),
        "64 KiB": submit("--params-json", json.dumps({"blob": "x" * (64 * 1024)})),
        "param": submit("--param", "no-equals-sign"),
    }

    answers = run_cli_many(store, list(cases.values()))

    for field, ran in zip(cases, answers, strict=True):
        assert_clean_refusal(ran, 2, "params" if field == "64 KiB" else field)
    assert "64 KiB" in answers[5].stderr
    assert log_counts(store) == (1, 1)
    with open_queue(store) as pq:  # one level less is accepted: the limit is where it says
        pq.submit("deep", actor="agent-7", target="prov/logo", params=nested(16))
    assert log_counts(store) == (2, 2)
