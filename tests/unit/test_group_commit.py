"""ThreadGroupCommit: callers that arrive while a commit runs share the next one, and each
hears only its own outcome."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from proofqueue.facade import thread_grouping
from proofqueue.facade.thread_grouping import ThreadGroupCommit


class Store:
    """Commits by recording batches; the first commit waits until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def save(self, items: Sequence[str]) -> list[str | BaseException]:
        self.entered.set()
        self.release.wait(5)
        if "boom" in items:
            raise OSError("disk gone")
        self.batches.append(list(items))
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


def test_callers_arriving_during_a_commit_share_the_next_and_hear_their_own_answer() -> None:
    store = Store()
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, store.save)
    answers: dict[str, str | BaseException] = {}

    def call(item: str) -> None:
        try:
            answers[item] = group.commit(item)
        except BaseException as exc:
            answers[item] = exc

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert store.entered.wait(5)
    others = [threading.Thread(target=call, args=(name,)) for name in ("a", "bad-b", "c")]
    for thread in others:
        thread.start()
    while len(group._queue) < 3:
        threading.Event().wait(0.01)
    store.release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert store.batches[0] == ["first"]
    assert sorted(store.batches[1]) == ["a", "bad-b", "c"]  # one shared commit
    assert group.commits == 2
    assert answers["first"] == "FIRST"
    assert answers["a"] == "A"
    assert answers["c"] == "C"
    assert isinstance(answers["bad-b"], ValueError)


def test_a_failed_commit_reaches_every_caller_of_its_batch_and_a_lone_caller_waits_for_none() -> (
    None
):
    store = Store()
    store.release.set()
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, store.save)
    assert group.commit("alone") == "ALONE"
    assert store.batches == [["alone"]]
    with pytest.raises(OSError, match="disk gone"):
        group.commit("boom")
    group.commit("after")  # the group is not stuck after a failure
    assert store.batches[-1] == ["after"]


def test_callers_arriving_while_the_leader_prepares_join_its_batch() -> None:
    store = Store()
    store.release.set()
    preparing, go = threading.Event(), threading.Event()

    def prepare(item: str) -> str:
        if item == "first":
            preparing.set()
            go.wait(5)
        return item

    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(prepare, store.save)
    first = threading.Thread(target=group.commit, args=("first",))
    first.start()
    assert preparing.wait(5)
    others = [threading.Thread(target=group.commit, args=(name,)) for name in ("a", "b")]
    for thread in others:
        thread.start()
    while len(group._queue) < 2:
        threading.Event().wait(0.01)
    go.set()
    for thread in [first, *others]:
        thread.join(5)
    assert [sorted(batch) for batch in store.batches] == [["a", "b", "first"]]
    assert group.commits == 1


class _Interrupted(threading.Event):
    """An event whose wait is interrupted at once (a KeyboardInterrupt in that thread)."""

    def wait(self, timeout: float | None = None) -> bool:
        raise KeyboardInterrupt


def test_a_caller_interrupted_while_it_waits_leaves_and_its_item_is_not_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store()
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, store.save)
    first = threading.Thread(target=group.commit, args=("first",))
    first.start()
    assert store.entered.wait(5)
    monkeypatch.setattr(threading, "Event", _Interrupted)
    with pytest.raises(KeyboardInterrupt):
        group.commit("interrupted")
    monkeypatch.undo()
    assert group._queue == []
    store.release.set()
    first.join(5)
    assert group.commit("after") == "AFTER"  # not stuck: the next caller leads at once
    assert store.batches == [["first"], ["after"]]


def test_a_caller_made_the_next_leader_that_leaves_hands_the_lead_on() -> None:
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, Store().save)
    made = [thread_grouping._Waiting[str, str](item, threading.Event()) for item in "bc"]
    group._queue, group._busy = list(made), True
    with group._lock:
        assert group._next_leader() is made[0]
    group._leave(made[0])  # interrupted just as it was woken to lead
    assert made[1].lead
    assert made[1].done is not None
    assert made[1].done.is_set()
    assert group._queue == [made[1]]
    group._leave(made[1])
    assert group._queue == []
    assert not group._busy  # nobody waits: the next caller leads at once


def test_after_a_shared_commit_the_leader_lets_callers_it_woke_join_before_it_saves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store()
    store.release.set()
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, store.save)
    group._company = True  # the last commit held other callers' items
    woken: list[threading.Thread] = []
    yields = []

    def let_others_run(seconds: float) -> None:  # the first time, a woken caller comes back
        yields.append(seconds)
        if len(yields) == 1:
            woken.append(threading.Thread(target=group.commit, args=("back",)))
            woken[0].start()
            while not group._queue:
                threading.Event().wait(0.001)

    monkeypatch.setattr(thread_grouping, "sleep", let_others_run)
    assert group.commit("leader") == "LEADER"
    woken[0].join(5)
    assert store.batches == [["leader", "back"]]  # one commit for both
    assert yields == [0, 0]  # once more after "back" came; that brought no one: saved


def test_a_lone_caller_never_waits_for_company(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    store.release.set()
    group: ThreadGroupCommit[str, str, str] = ThreadGroupCommit(str.strip, store.save)

    def never(seconds: float) -> None:
        raise AssertionError("a lone caller yielded")

    monkeypatch.setattr(thread_grouping, "sleep", never)
    for item in ("a", "b", "c"):
        assert group.commit(item) == item.upper()
    assert store.batches == [["a"], ["b"], ["c"]]
    assert not group._company
