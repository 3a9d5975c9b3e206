"""``ProofQueue``: the one object an agent runtime, the CLI and the HTTP API talk to.

One method per use case: validate, load, act, save, answer. The composition (store, views,
vendor client, breaker, dispatcher) is built here from ``Settings``; nothing connects at
import time.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import random
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from proofqueue.adapters.log import IntentLog
from proofqueue.adapters.sealing import Sealer, parse_key
from proofqueue.adapters.store import is_postgres, opening
from proofqueue.domain.breaker import BreakerState
from proofqueue.domain.canonical import canonical
from proofqueue.domain.chained import event_fields
from proofqueue.domain.errors import (
    ConfigurationError,
    IdempotencyConflict,
    IllegalTransition,
    IntentNotFound,
    InvalidInput,
    SecretNeedsKey,
)
from proofqueue.domain.intent import Intent, Status, intent_id
from proofqueue.domain.proof import ChainChecker, ChainLink
from proofqueue.domain.receipt import Receipt, receipt_of
from proofqueue.domain.request import IntentRequest, parse_request
from proofqueue.domain.sanitize import sanitize
from proofqueue.ports import Vendor
from proofqueue.process.guard import BreakerGuard
from proofqueue.process.manager import Dispatcher
from proofqueue.projections import queries
from proofqueue.projections.compare import compare_views
from proofqueue.projections.runner import Projector
from proofqueue.projections.store import ViewDB, sqlite_viewdb
from proofqueue.settings import Settings

MAX_WAIT_S = 3600.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Problem:
    """One chain that does not verify: the intent and its first bad event."""

    request_id: str
    seq: int
    type: str
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    intents: int
    events: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ReplayReport:
    events: int
    seconds: float
    differences: list[str] = field(default_factory=list)
    as_of: datetime | None = None
    intents: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)


class ProofQueue:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vendor: Vendor | None = None,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] | None = None,
        worker_name: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock
        key = self.settings.cipher_key
        self.sealer = Sealer(parse_key(key.get_secret_value()) if key else None)
        with opening(self.settings.store) as env:
            self.app = IntentLog(env=env)
            datastore = self.app.factory.datastore  # type: ignore[attr-defined]
            postgres = is_postgres(self.settings.store)
            self.views = ViewDB(datastore, "postgres" if postgres else "sqlite")
            self.projector = Projector(self.app.recorder, self.app.mapper, self.views)
        self.worker_name = worker_name or (
            f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )
        self.vendor = vendor if vendor is not None else self._http_vendor()
        vendor_name = self.vendor.name if self.vendor is not None else "vendor"
        self.guard = BreakerGuard(
            self.app,
            vendor_name,
            self.settings.breaker,
            clock,
            self.worker_name,
            probe_lease=timedelta(seconds=self.settings.lease_s),
        )
        self.dispatcher: Dispatcher | None = None
        if self.vendor is not None:
            self.dispatcher = Dispatcher(
                app=self.app,
                views=self.views,
                projector=self.projector,
                vendor=self.vendor,
                guard=self.guard,
                sealer=self.sealer,
                settings=self.settings,
                clock=clock,
                worker=self.worker_name,
                rand=rand or random.random,
            )

    @classmethod
    def from_env(cls, **overrides: Any) -> ProofQueue:
        """Settings from PROOFQUEUE_* environment variables; keywords override them."""
        return cls(Settings.from_env(**overrides))

    def _http_vendor(self) -> Vendor | None:
        if not self.settings.vendor_url:
            return None
        from proofqueue.adapters.vendor_http import HttpVendor

        key = self.settings.vendor_api_key
        return HttpVendor(
            base_url=self.settings.vendor_url,
            api_key=key.get_secret_value() if key else None,
            connect_timeout=self.settings.connect_timeout_s,
            read_timeout=self.settings.read_timeout_s,
        )

    def close(self) -> None:
        close = getattr(self.vendor, "close", None)
        if callable(close):
            close()
        self.app.close()

    def __enter__(self) -> ProofQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submit -------------------------------------------------------------------------

    def submit(
        self,
        request_id: Any,
        *,
        actor: Any,
        target: Any,
        params: Any = None,
        wait: float = 0.0,
    ) -> Receipt:
        """Record an intent (once per request_id, forever) and, while the breaker is OK,
        attempt it at once; wait up to ``wait`` seconds for it to settle. While the breaker
        is not OK, answer QUEUED at once without calling the vendor."""
        if isinstance(wait, bool) or not isinstance(wait, int | float):
            raise InvalidInput("wait", "must be a number of seconds")
        if not 0 <= wait <= MAX_WAIT_S:
            raise InvalidInput("wait", f"must be between 0 and {MAX_WAIT_S:g} seconds")
        request, intent = self._prepare(request_id, actor, target, params)
        return self._drive(self._record_new(request, intent), wait)

    def submit_many(self, items: Sequence[Mapping[str, Any]]) -> list[Receipt]:
        """Record many intents in one transaction (one commit) and answer their receipts;
        the worker buys them. Each item holds ``request_id``, ``actor``, ``target`` and
        ``params``, and is idempotent as in ``submit``. If any item is invalid, nothing is
        written and the error names the item."""
        prepared: dict[str, tuple[IntentRequest, Intent]] = {}
        for n, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InvalidInput(f"items[{n}]", "must be an object")
            unknown = set(item) - {"request_id", "actor", "target", "params"}
            if unknown:
                raise InvalidInput(f"items[{n}].{sorted(unknown)[0]}", "is not a field")
            try:
                request, intent = self._prepare(
                    item.get("request_id"),
                    item.get("actor"),
                    item.get("target"),
                    item.get("params"),
                )
            except InvalidInput as exc:
                raise InvalidInput(f"items[{n}].{exc.field}", exc.problem) from None
            first = prepared.get(request.request_id)
            if first is not None and not self._same_request(
                first[1], request.actor, request.target, request.params
            ):
                raise IdempotencyConflict(request.request_id)
            prepared.setdefault(request.request_id, (request, intent))
        try:
            self.app.save(*(intent for _, intent in prepared.values()))
            recorded = [intent for _, intent in prepared.values()]
        except IntegrityError:
            # Some exist already. The failed save used up the intents' pending events, so
            # each is made afresh and recorded by itself, idempotently.
            recorded = [
                self._record_new(*self._prepare(r.request_id, r.actor, r.target, r.params))
                for r, _ in prepared.values()
            ]
        by_id = {intent.request_id: receipt_of(intent) for intent in recorded}
        return [by_id[str(item["request_id"])] for item in items]

    def _prepare(
        self, request_id: Any, actor: Any, target: Any, params: Any
    ) -> tuple[IntentRequest, Intent]:
        """Validate a request and make its new intent (not saved yet)."""
        request = parse_request(request_id, actor, target, {} if params is None else params)
        public, redacted = sanitize(request.params)
        if redacted and not self.sealer.has_key:
            raise SecretNeedsKey(redacted)
        now = self.clock()
        sealed = self.sealer.has_key
        intent = Intent.queue(
            request_id=request.request_id,
            actor=request.actor,
            target=request.target,
            params_public=public,
            params_sealed=self.sealer.seal(request.params, request.request_id) if sealed else None,
            params_plain=None if sealed else request.params,
            params_digest=self.sealer.digest(request.canonical_params),
            max_attempts=self.settings.retry.max_attempts,
            deadline=now + timedelta(seconds=self.settings.retry.budget_s),
            now=now,
        )
        return request, intent

    def _record_new(self, request: IntentRequest, intent: Intent) -> Intent:
        """Save a new intent; if its request_id exists, the existing one if it is the same
        request (idempotent), else IdempotencyConflict. Nothing is written twice."""
        try:
            self.app.save(intent)  # the store's uniqueness is the idempotency check
        except IntegrityError:
            intent = self.app.intent(request.request_id)
            if not self._same_request(intent, request.actor, request.target, request.params):
                raise IdempotencyConflict(request.request_id) from None
        return intent

    def _same_request(
        self, intent: Intent, actor: str, target: str, params: dict[str, Any]
    ) -> bool:
        """Compare by content: the stored params (opened if sealed) with the new ones, so a
        cipher key set or changed since the first submit does not make a false conflict."""
        if (intent.actor, intent.target) != (actor, target):
            return False
        if intent.params_sealed is not None:
            stored = self.sealer.open(intent.params_sealed, intent.request_id)
        else:
            stored = intent.params_plain or {}
        return canonical(stored) == canonical(params)

    async def asubmit(
        self, request_id: Any, *, actor: Any, target: Any, params: Any = None, wait: float = 0.0
    ) -> Receipt:
        """``submit`` for asyncio callers: runs in a worker thread, never blocks the loop."""
        return await asyncio.to_thread(
            self.submit, request_id, actor=actor, target=target, params=params, wait=wait
        )

    def _drive(self, intent: Intent, wait: float) -> Receipt:
        """Attempt now if the breaker is OK; then follow the intent for up to ``wait`` s."""
        dispatcher = self.dispatcher
        if dispatcher is None or self.guard.sync(drive=False) != BreakerState.OK:
            return receipt_of(intent)
        request_id = intent.request_id
        dispatcher.attempt(request_id)
        until = time.monotonic() + wait
        while True:
            intent = self.app.intent(request_id)
            remaining = until - time.monotonic()
            if intent.is_terminal or remaining <= 0:
                return receipt_of(intent)
            pause = 0.05
            if intent.status == Status.SUBMITTED and intent.job_id:
                pause = dispatcher.poll_in(request_id)
                if pause <= 0:
                    dispatcher.follow(request_id, intent.job_id)
                    continue
            elif intent.is_due(self.clock()) and self.guard.state == BreakerState.OK:
                dispatcher.attempt(request_id)
                continue
            time.sleep(min(pause, remaining))

    # -- reads --------------------------------------------------------------------------

    def receipt(self, request_id: str) -> Receipt:
        return receipt_of(self.app.intent(request_id))

    def show(self, request_id: str) -> dict[str, Any]:
        """The whole trail of an intent, sanitized: seq, type, time, fields, hash."""
        intent = self.app.intent(request_id)
        events = []
        event: Any
        for event in self.app.events.get(intent.id):
            fields = event_fields(event)
            if "params_sealed" in fields:
                fields["params_sealed"] = "[sealed]" if fields["params_sealed"] else None
            fields.pop("params_plain", None)
            events.append(
                {
                    "seq": event.originator_version,
                    "type": type(event).__name__,
                    "at": event.timestamp.isoformat(),
                    "fields": fields,
                    "hash": getattr(event, "hash", None),
                }
            )
        return {"request_id": request_id, "status": intent.status.value, "events": events}

    def catch_up(self) -> None:
        self.projector.catch_up()

    def list(
        self,
        *,
        status: Sequence[str] = (),
        actor: str | None = None,
        target: str | None = None,
        older_than: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The operator list, queued and retrying first."""
        statuses = [s.strip().upper() for s in status if s.strip()]
        unknown = [s for s in statuses if s not in queries.STATUSES]
        if unknown:
            raise InvalidInput(
                "status", f"unknown {', '.join(unknown)}; known: {', '.join(queries.STATUSES)}"
            )
        if not 1 <= limit <= 10_000:
            raise InvalidInput("limit", "must be between 1 and 10000")
        if offset < 0:
            raise InvalidInput("offset", "must not be negative")
        if older_than is not None and older_than < 0:
            raise InvalidInput("older_than", "must not be negative")
        self.catch_up()
        flt = queries.ListFilter(statuses, actor, target, older_than, limit, offset)
        return queries.list_intents(self.views, flt, self.clock())

    def counts(self) -> dict[str, int]:
        self.catch_up()
        return queries.counts(self.views)

    def health(self) -> dict[str, Any]:
        """The breaker health view, with this process's live window when it has calls."""
        self.catch_up()
        now = self.clock()
        view = queries.health(self.views, now, self.settings.breaker.window_s)
        state, ratio, calls = self.guard.snapshot(now)
        if calls and state.value == view["state"]:
            view["failure_ratio"], view["calls_in_window"] = round(ratio, 4), calls
        return view

    # -- verify -------------------------------------------------------------------------

    def verify(self, request_ids: Sequence[str] = ()) -> VerifyReport:
        """Recompute proof chains: of ``request_ids``, or of every aggregate in the log.

        Each chain is read by itself, in version order, straight from the stored events
        (never through the aggregate, which a damaged trail could not be rebuilt into)."""
        recorder = self.app.recorder
        if request_ids:
            named: dict[Any, str] = {}
            for request_id in request_ids:
                key = intent_id(request_id)
                if not recorder.select_events(key, limit=1):
                    raise IntentNotFound(request_id)
                named[key] = request_id
            return _verify(self.app.mapper, recorder, named, self._name_of)
        everyone = {note.originator_id: "" for note in _whole_log(recorder)}
        return _verify(self.app.mapper, recorder, everyone, self._name_of)

    def _name_of(self, key: Any) -> str:
        """The request_id of an intent whose first event cannot be read: from the view."""
        rows = self.views.query(
            "SELECT request_id FROM pq_intents WHERE intent_id = ?", (str(key),)
        )
        return str(rows[0]["request_id"]) if rows else str(key)

    # -- operator actions ---------------------------------------------------------------

    def retry(self, request_id: str, *, operator: str | None = None) -> Receipt:
        """Attempt now, with the retry budget re-armed. Recorded with the operator's name."""
        who = _operator(operator)
        intent = self.app.intent(request_id)
        intent.operator_retry(
            operator=who,
            extra_attempts=self.settings.retry.max_attempts,
            window=timedelta(seconds=self.settings.retry.budget_s),
            now=self.clock(),
        )
        self._save_or_refuse(intent, "retry")
        return receipt_of(intent)

    def cancel(self, request_id: str, *, reason: str, operator: str | None = None) -> Receipt:
        """Fail an intent the vendor holds no job for. Recorded with the operator's name."""
        who = _operator(operator)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason", "must not be empty")
        if len(reason) > 500:
            raise InvalidInput("reason", "at most 500 characters")
        intent = self.app.intent(request_id)
        intent.cancel(operator=who, reason=reason.strip(), now=self.clock())
        self._save_or_refuse(intent, "cancel")
        return receipt_of(intent)

    def _save_or_refuse(self, intent: Intent, action: str) -> None:
        try:
            self.app.save(intent)
        except IntegrityError:
            fresh = self.app.intent(intent.request_id)
            raise IllegalTransition(
                intent.request_id, action, fresh.status, "it changed meanwhile; try again"
            ) from None

    # -- the worker ---------------------------------------------------------------------

    def run_worker(self, stop: threading.Event, concurrency: int | None = None) -> None:
        """Run the process manager in this thread until ``stop`` is set."""
        if self.dispatcher is None:
            raise ConfigurationError(
                "the worker needs a vendor: set PROOFQUEUE_VENDOR_URL (or pass vendor=...)"
            )
        self.dispatcher.run(stop, concurrency)

    @contextmanager
    def worker(self, concurrency: int | None = None) -> Iterator[threading.Event]:
        """Run the process manager in a background thread until the block ends."""
        stop = threading.Event()
        errors: list[BaseException] = []

        def target() -> None:
            try:
                self.run_worker(stop, concurrency)
            except BaseException as exc:  # surfaced when the block ends
                errors.append(exc)

        thread = threading.Thread(target=target, name="proofqueue-worker", daemon=True)
        thread.start()
        try:
            yield stop
        finally:
            stop.set()
            thread.join()
        if errors:
            raise errors[0]

    # -- replay -------------------------------------------------------------------------

    def replay(
        self,
        *,
        check: bool = False,
        as_of: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ReplayReport:
        """Rebuild every view from the log alone, into a fresh store.

        ``check`` compares the rebuilt views with the live ones; ``as_of`` rebuilds them as
        they stood at that moment (events recorded after it are left out)."""
        if as_of is not None and as_of.tzinfo is None:
            raise InvalidInput("as_of", "needs a time zone (for example 2026-01-01T00:00:00Z)")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="proofqueue-replay-") as tmp:
            fresh = sqlite_viewdb(os.path.join(tmp, "views.db"))
            try:
                rebuilt = Projector(self.app.recorder, self.app.mapper, fresh, as_of=as_of)
                events = 0
                differences: list[str] = []
                if check:
                    for _ in range(20):
                        self.catch_up()
                        target = self.projector.position()
                        events += rebuilt.catch_up(stop=target, progress=progress)
                        differences = compare_views(self.views, fresh)
                        if self.projector.position() == target:
                            break
                else:
                    events = rebuilt.catch_up(progress=progress)
                report = ReplayReport(
                    events=events,
                    seconds=time.monotonic() - started,
                    differences=differences,
                    as_of=as_of,
                )
                if as_of is not None:
                    flt = queries.ListFilter(limit=10_000)
                    report.intents.extend(queries.list_intents(fresh, flt, as_of))
                    report.health.update(
                        queries.health(fresh, as_of, self.settings.breaker.window_s)
                    )
                return report
            finally:
                fresh.datastore.close()


def _whole_log(recorder: Any, batch: int = 1000) -> Iterator[Any]:
    start = 1
    while notes := recorder.select_notifications(start=start, limit=batch):
        yield from notes
        start = notes[-1].id + 1


def _verify(
    mapper: Any, recorder: Any, aggregates: dict[Any, str], name_of: Callable[[Any], str]
) -> VerifyReport:
    """Check each aggregate's chain in version order; name the first bad event of each."""
    problems: list[Problem] = []
    intents = events = 0
    for key, known_name in aggregates.items():
        stored = recorder.select_events(key)
        events += len(stored)
        if stored and ":BreakerLog" not in stored[0].topic:
            intents += 1
        name = known_name
        checker = ChainChecker()
        for item in stored:
            try:
                event: Any = mapper.to_domain_event(item)
            except Exception as exc:  # any decoding failure is a finding
                problem = Problem(
                    name or name_of(key), item.originator_version, "?", f"cannot decode: {exc}"
                )
                problems.append(problem)
                break
            if isinstance(event, Intent.Queued) and not name:
                name = event.request_id
            link = ChainLink(
                event.originator_version,
                type(event).__name__,
                event.timestamp.isoformat(),
                event_fields(event),
                getattr(event, "hash", ""),
            )
            found = checker.check(str(key), link)
            if found is not None:
                problems.append(
                    Problem(name or name_of(key), found.seq, found.type_name, found.problem)
                )
                break
    return VerifyReport(intents, events, problems)


def _operator(operator: str | None) -> str:
    if operator is None:
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):
            operator = "unknown"
    if not isinstance(operator, str) or not operator.strip() or len(operator) > 200:
        raise InvalidInput("operator", "must be 1-200 characters")
    return operator.strip()
