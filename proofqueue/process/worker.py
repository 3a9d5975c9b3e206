"""The worker loop: follows the views and hands due work to the process manager.

Each round lets the breaker tick, reads the views once (``Views.work``), then hands out
reads of submitted jobs and due attempts to a pool of at most ``concurrency`` calls in
flight. Up to ``max(concurrency, AHEAD_MIN)`` more wait in the pool's queue, claimed ahead,
and a round refills them only once that many are free: a call that ends hands its thread the
next at once, and each round's store commit carries several claims and decisions. A
queued call is not sent if the breaker trips or a hold comes while it waits. While the
breaker is DEGRADED nothing is sent; while RECOVERING only its probes are (none ahead).
The views are brought up to date by the leading worker (the first live one), in a thread
of its own as the log grows; another catches up itself only when the views stood still for
``CATCH_UP_S`` while the log grew (the leader is gone or paused).

Work is partitioned: every intent falls in one of 16 slots (the first hex digit of its id),
and the live workers, sorted by name, share the slots out (``queries.slots_of``). A worker
reads, claims and follows only the intents of its own slots, so N workers neither read one
job N times nor collide on claims. Which workers are live comes from their heartbeats
(``pq_workers``), written each ``beat_s``.

A claim left unresolved (its worker died or was paused) is taken over by the worker whose
slots it falls in, once that worker has watched it unchanged for a whole lease by its own
monotonic clock: wall clocks that disagree by minutes change nothing.

An intent whose trail is damaged is isolated by the manager (``ProcessManager.damaged``):
the worker skips it in every list it reads, and a failing checkpoint signing is logged
once and does not stop the round. A round that fails (the store is down or full) and work
on an intent that keeps failing back off and are logged once per reason (``complaints.py``).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.heartbeat import Heartbeat
from proofqueue.ports import Views
from proofqueue.process.complaints import Complaints
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.manager import ProcessManager
from proofqueue.projections import queries

log = logging.getLogger("proofqueue.worker")

# How long the views may stand still while the log grows before a worker that does not
# lead brings them up to date itself (the leader is gone or stuck).
CATCH_UP_S = 1.0
# How often the leading worker looks for new events in the log when it found none.
FOLLOW_S = 0.05
# How often a worker reads the breaker's log (its state may move on another worker), and
# how often the leading worker looks whether a checkpoint is due.
SYNC_S = 0.2
SIGN_S = 1.0
# How long what calls decided may wait for a round's claims commit while calls are in
# flight (the end of each starts a round), before a round records it in a commit of its own.
RECORD_WAIT_S = 0.1
# A round hands out at least this many calls (or ``concurrency``, if more): calls beyond
# those the pool runs wait in its queue, claimed ahead (``Worker._step``).
AHEAD_MIN = 8
# How the longest recent call is forgotten: each call ends with it times this (or its own).
SLOW_DECAY = 0.9


@dataclass
class Worker:
    manager: ProcessManager
    views: Views
    guard: BreakerGuard
    clock: Callable[[], datetime]
    concurrency: int
    idle_s: float
    name: str
    lease_s: float
    beat_s: float = 1.0
    # Called once a round with the time: signs a checkpoint of the transparency log when
    # one is due (the worker signs within PROOFQUEUE_CHECKPOINT_S of the tree growing).
    checkpoint: Callable[[datetime], object] | None = None
    slots: list[str] | None = None  # None until the first heartbeat: then every slot
    members: list[str] = field(default_factory=list)
    _started_at: float = field(default_factory=time.time)
    _beat_at: float = 0.0
    _caught_up_at: float = 0.0
    _synced_at: float = 0.0
    _signed_at: float = 0.0
    _watch: dict[str, tuple[int, float]] = field(default_factory=dict)
    _inflight: set[str] = field(default_factory=set)  # handed to the pool, running or queued
    _running: int = 0  # calls the pool runs now
    _slowest: float = 0.0  # the longest recent call (s), decaying (``_ahead``)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _catching: threading.Lock = field(default_factory=threading.Lock)
    _following: bool = False  # a thread of run() keeps the views up to date while leading
    _log_wake: threading.Event = field(default_factory=threading.Event)
    _seen_position: int = -1
    _claimed: bool = False  # this round committed claims (and the decisions gathered)
    # Intents this worker claimed lately (monotonic time): the views may still show them
    # due until they catch up, so they are not candidates for CATCH_UP_S.
    _recent: dict[str, float] = field(default_factory=dict)
    _pick: random.Random = field(default_factory=random.Random)
    _checkpoint_error: str = ""
    _complaints: Complaints = field(default_factory=lambda: Complaints(log))

    def run(self, stop: threading.Event) -> None:
        """Dispatch until ``stop`` is set; waits for calls in flight before returning."""
        width = self.concurrency
        log.info("worker %s started (%d in flight at most)", self.name, width)
        follower = threading.Thread(
            target=self._follow_log, args=(stop,), name="pq-views", daemon=True
        )
        self._following = True
        follower.start()
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="pq-call") as pool:
            try:
                self._run(pool, width, stop)
            finally:
                self._log_wake.set()
                follower.join()
                self._following = False
                pool.shutdown(wait=True)
                self.manager.flush_records()
                self._heartbeat(stopped=True)
        log.info("worker %s stopped", self.name)

    def nudge(self) -> None:
        """Start a round now, with the views brought up to date first (from any thread):
        new work was recorded in this process, or ``stop`` was set."""
        self._caught_up_at = 0.0
        self._log_wake.set()
        self._wake.set()

    def _follow_log(self, stop: threading.Event) -> None:
        """While this worker leads, bring the views up to date as the log grows, apart
        from the rounds: a catch-up is a dozen round trips to the store, and every worker's
        next step waits for it (its jobs to follow, its claims seen), not only this one's."""
        while not stop.is_set():
            applied = 0
            if self._leads():
                try:
                    applied = self._catch_up()
                except Exception as exc:  # the store failed: back off, go on
                    stop.wait(self._complaints.failed("views", "views catch-up", exc))
                    continue
                self._complaints.ok("views", "views catch-up")
            if not applied:
                self._log_wake.wait(FOLLOW_S)
                self._log_wake.clear()

    def _stale(self) -> bool:
        """The views stood still for ``CATCH_UP_S`` while the log grew; always after a
        ``nudge``. Looked at once every ``CATCH_UP_S``."""
        now = time.monotonic()
        if now - self._caught_up_at < CATCH_UP_S:
            return False
        if not self._caught_up_at:
            return True
        position, head = self.views.progress()
        if position != self._seen_position:  # someone moves them: look again later
            self._seen_position = position
            self._caught_up_at = now
            return False
        return head > position

    def _catch_up(self) -> int:
        with self._catching:  # one catch-up at a time in this process
            applied = self.views.catch_up()
            self._caught_up_at = time.monotonic()
            return applied

    def _run(self, pool: ThreadPoolExecutor, width: int, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.step(pool, width)
            except Exception as exc:  # the store or the network failed: back off, go on
                stop.wait(self._complaints.failed("round", "worker round", exc))
                continue
            self._complaints.ok("round", "worker round")
            if not busy:  # until a call finishes, or time passes
                self._wake.wait(self._idle_wait_s())
                self._wake.clear()

    def _idle_wait_s(self) -> float:
        """How long an idle worker waits for a call to finish: ``idle_s``, or less while
        decisions wait to be recorded (``_holds_records``)."""
        waiting = self.manager.recorder.waiting_s()
        if not waiting:
            return self.idle_s
        return max(0.0, min(self.idle_s, RECORD_WAIT_S - waiting))

    def _heartbeat(self, *, stopped: bool = False) -> None:
        """Beat, and take this worker's share of the slots among the live workers."""
        beat = Heartbeat(
            worker=self.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self._started_at,
            in_flight=self._running,
            stopped=stopped,
        )
        blocked, self.manager.blocked = self.manager.blocked, {}
        try:
            members = self.views.beat(beat, self.lease_s, self.manager.polls.next_reads(), blocked)
        except Exception:
            self.manager.blocked.update(blocked)  # not written: again next beat
            if stopped:
                return  # going away anyway: the others see the beats stop
            raise
        self._beat_at = time.monotonic()
        if self.name not in members:
            members = sorted([*members, self.name])
        if members != self.members:
            log.info("workers alive: %s; this one is %s", ", ".join(members), self.name)
        self.members = members
        self.slots = queries.slots_of(members.index(self.name), len(members))

    def step(self, pool: ThreadPoolExecutor, width: int) -> bool:
        """One round: let the breaker tick, claim due work and hand its calls out. True if
        busy. What the calls finished since the last round decided is recorded in the
        claims' commit. A round that claims nothing leaves it to a later round's claims
        commit while calls are in flight (the end of each starts a round), for at most
        ``RECORD_WAIT_S``; else records it in a commit of its own. What a call decides
        after the claims' commit waits for the next round likewise."""
        self._claimed = False
        try:
            return self._step(pool, width)
        finally:
            if not self._claimed and not self._holds_records():
                self.manager.flush_records()

    def _holds_records(self) -> bool:
        """Whether what calls decided may wait for a later round's claims commit."""
        return bool(self._inflight) and self.manager.recorder.waiting_s() < RECORD_WAIT_S

    def _step(self, pool: ThreadPoolExecutor, width: int) -> bool:
        if (self._leads() and not self._following) or self._stale():  # else _follow_log does
            self._catch_up()
        if self.slots is None or time.monotonic() - self._beat_at >= self.beat_s:
            self._heartbeat()
        now = time.monotonic()
        if self.checkpoint is not None and self._leads() and now - self._signed_at >= SIGN_S:
            self._signed_at = now  # the first live worker signs; at most once a second
            try:
                self.checkpoint(self.clock())
            except Exception as exc:  # e.g. a damaged checkpoint event: buying goes on
                if str(exc) != self._checkpoint_error:
                    log.error("checkpoint not signed: %s", exc)
                self._checkpoint_error = str(exc)
        if now - self._synced_at >= SYNC_S:  # the breaker's log, at most every SYNC_S
            self._synced_at = now
            self.guard.sync()
        state = self.guard.state
        if self._closed():
            return False
        probing = state != BreakerState.OK
        # Up to ``ahead`` calls more than the pool runs wait in its queue (claimed ahead):
        # a call that ends hands its thread the next one at once, not after a round. A
        # round refills them once ``ahead`` are free, so that each hands out several and
        # the store sees fewer rounds a settled intent. Not while probing.
        ahead = 0 if probing else self._ahead(width)
        free = width + ahead - len(self._inflight)
        if free < max(1, ahead):
            return False
        # The round's jobs, claims and due intents, read in one transaction;
        # enough due ones for a random pick among the oldest (``_candidates``).
        most = free if not probing else max(free, self.guard.policy.probes)
        skip = len(self._inflight) + len(self._lately_claimed())
        work = self.views.work(self.clock(), 4 * most + skip, self.slots)
        jobs = self._jobs(work.submitted)
        # Reads of submitted jobs first, with up to half the free slots: a job the vendor has
        # finished should not wait behind a whole backlog of creates.
        handed = self._follow_jobs(pool, jobs, max(1, free // 2), probing=probing)
        limit = free - handed if not probing else self.guard.policy.probes
        wanted: dict[str, int | None] = {}
        for request_id, version in self._expired_claims(work.claimed)[:limit]:
            wanted[request_id] = version
            self._watch.pop(request_id, None)
        for request_id in self._candidates(work.due, limit - len(wanted)):
            wanted.setdefault(request_id, None)
        started = 0
        if wanted:  # the round's claims in one commit; the calls in the pool
            claims = self.manager.claim(wanted)
            self._claimed = True
            now = time.monotonic()
            for claimed in claims:
                self._recent[claimed.intent.request_id] = now
                if self._start(pool, claimed.intent.request_id, self.manager.call, claimed):
                    started += 1
        handed += started
        if handed < free:
            handed += self._follow_jobs(pool, jobs, free - handed, probing=probing)
        return handed > 0

    def _jobs(self, submitted: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
        """The submitted jobs this worker may follow; the polls of any other are forgotten."""
        damaged = self.manager.damaged
        jobs = [
            job
            for job in submitted
            if job[0] not in damaged and not self._complaints.waiting(job[0])
        ]
        self.manager.polls.forget({job[0] for job in jobs})
        return jobs

    def _follow_jobs(
        self,
        pool: ThreadPoolExecutor,
        jobs: list[tuple[str, str, int]],
        free: int,
        *,
        probing: bool,
    ) -> int:
        """Read submitted jobs whose next read is due. While the breaker is RECOVERING each
        read is a probe, so reads can bring it back to OK when no attempt is due. An intent
        this worker saved at the version the views show is not loaded again."""
        due: list[tuple[str, str]] = []
        versions: dict[str, int] = {}
        for request_id, job_id, version in jobs:
            if len(due) >= free:
                break
            if request_id in self._inflight or self.manager.recorder.known.finished(
                request_id, version
            ):
                continue
            if self.manager.polls.due_in(request_id) > 0:
                continue
            due.append((request_id, job_id))
            versions[request_id] = version
        loaded = self.manager.load_many(list(versions), versions) if due else {}
        handed = 0
        for request_id, job_id in due:
            intent = loaded.get(request_id)
            if intent is None:
                continue  # damaged (isolated) or gone
            if probing and not self.guard.admit():
                break
            if self._start(pool, request_id, self.manager.follow, request_id, job_id, intent):
                handed += 1
            elif probing:
                self.guard.unsent()
        return handed

    def _candidates(self, due: list[str], wanted: int) -> list[str]:
        """Due intents, oldest first. Workers sharing a store would all reach for the same
        oldest few, so each takes a random pick among the oldest ``4 * wanted``."""
        if wanted <= 0:
            return []
        recent = self._recent
        window = due[: 4 * wanted + len(self._inflight) + len(recent)]
        damaged = self.manager.damaged
        fresh = [
            r
            for r in window
            if r not in self._inflight
            and r not in recent
            and r not in damaged
            and not self._complaints.waiting(r)
        ]
        if len(fresh) > wanted:
            picked = set(self._pick.sample(fresh, wanted))
            fresh = [request_id for request_id in fresh if request_id in picked]
        return fresh

    def _lately_claimed(self) -> dict[str, float]:
        """The intents this worker claimed in the last ``CATCH_UP_S``: the views may not
        show those claims yet (a candidate already claimed is loaded for nothing)."""
        since = time.monotonic() - CATCH_UP_S
        for request_id in [r for r, at in self._recent.items() if at < since]:
            del self._recent[request_id]
        return self._recent

    def _leads(self) -> bool:
        """The first live worker brings the views up to date every round; the others every
        ``CATCH_UP_S`` (a catch-up that another process won is rolled back: N workers doing
        it every round mostly waste the store's time)."""
        return not self.members or self.members[0] == self.name

    def _expired_claims(self, claimed: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Claims in this worker's slots that it watched unchanged for a whole lease."""
        now = time.monotonic()
        damaged = self.manager.damaged
        seen = [c for c in claimed if c[0] not in damaged and not self._complaints.waiting(c[0])]
        watched = {request_id for request_id, _ in seen}
        for gone in [key for key in self._watch if key not in watched]:
            del self._watch[gone]
        expired = []
        for request_id, version in seen:
            if request_id in self._inflight:
                self._watch.pop(request_id, None)
                continue
            first = self._watch.get(request_id)
            if first is None or first[0] != version:
                self._watch[request_id] = (version, now)
            elif now - first[1] >= self.lease_s:
                expired.append((request_id, version))
        return expired

    def _start(
        self, pool: ThreadPoolExecutor, key: str, fn: Callable[..., None], *args: Any
    ) -> bool:
        with self._lock:
            if key in self._inflight:
                return False
            self._inflight.add(key)
        future: Future[None] = pool.submit(self._send, self.guard.state, fn, *args)
        future.add_done_callback(lambda f: self._done(key, f))
        return True

    def _ahead(self, width: int) -> int:
        """How many calls may wait in the pool's queue: ``max(width, AHEAD_MIN)``, but no
        more than wait at most half of what a claim's lease leaves after its call, were
        every call ahead of them as slow as the slowest lately (queued claims must not
        run out of lease before their call starts: they would be taken over)."""
        margin = self.lease_s - self.manager.timing.call_s
        waves = int(margin / (2 * max(self._slowest, 0.001)))
        return max(0, min(max(width, AHEAD_MIN), width * waves))

    def _closed(self) -> bool:
        """The breaker is DEGRADED or an operator holds the vendor: nothing is sent."""
        return self.guard.state == BreakerState.DEGRADED or self.guard.held is not None

    def _send(self, handed_in: BreakerState, fn: Callable[..., None], *args: Any) -> None:
        """Run a call handed to the pool (``handed_in``: the breaker's state then), unless
        the breaker tripped or a hold came while it waited in the pool's queue, or it was
        handed out while OK and the breaker is not OK now (while RECOVERING only probes are
        sent): a read is then simply due again; an attempt is not sent and is due again
        (``ProcessManager.not_sent``)."""
        if self._closed() or (handed_in == BreakerState.OK and self.guard.state != BreakerState.OK):
            if fn == self.manager.call:
                self.manager.not_sent(*args)
            return
        with self._lock:
            self._running += 1
        started = time.monotonic()
        try:
            fn(*args)
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._running -= 1
                self._slowest = max(took, self._slowest * SLOW_DECAY)

    def _done(self, key: str, future: Future[None]) -> None:
        error = future.exception()
        if error is not None:  # backs off this intent (before it may be picked again)
            self._complaints.failed(key, f"work on {key}", error)
        else:
            self._complaints.ok(key, f"work on {key}")
        with self._lock:
            self._inflight.discard(key)
        self._wake.set()
