"""Auditing: the whole trail of an intent, and the proof chains recomputed from the log.

Each chain is read by itself, in version order, straight from the stored events (never
through the aggregate, which a damaged trail could not be rebuilt into).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from proofqueue.bootstrap import Components
from proofqueue.domain.chained import event_fields
from proofqueue.domain.errors import IntentNotFound, TrailDamaged
from proofqueue.domain.intent import Intent, intent_id
from proofqueue.domain.proof import ChainChecker, ChainLink
from proofqueue.domain.version import BadVersion, is_bad
from proofqueue.projections import damage, order, queries
from proofqueue.usecases import reads
from proofqueue.usecases.shapes import Trail, TrailEvent


@dataclass(frozen=True)
class Problem:
    """One chain that does not verify: the intent and its first bad event."""

    request_id: str
    seq: int
    type: str
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found: ``intents`` and ``events`` checked, the ``problems`` (the
    first bad event of each broken chain); ``ok`` when there are none."""

    intents: int
    events: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def show(parts: Components, request_id: str) -> Trail:
    """The whole trail of an intent, sanitized: seq, type, time, fields, hash."""
    intent = parts.log.intent(request_id)
    events: list[TrailEvent] = []
    event: Any
    try:
        stored = list(parts.log.events.get(intent.id, lte=intent.version))
    except Exception as exc:  # damaged since the intent was loaded: name the event
        seq = getattr(exc, "version", None)
        seq = None if is_bad(seq) else seq  # a row with no position of its own
        reason = getattr(exc, "reason", None) or " ".join(str(exc).split())
        raise TrailDamaged(request_id, reason, seq) from None
    for event in stored:
        fields = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in event_fields(event).items()
        }
        if "params_sealed" in fields:
            fields["params_sealed"] = "[sealed]" if fields["params_sealed"] else None
        fields.pop("params_plain", None)
        events.append(
            TrailEvent(
                seq=event.originator_version,
                type=type(event).__name__,
                at=event.timestamp,
                fields=fields,
                hash=getattr(event, "hash", None),
            )
        )
    return Trail(
        request_id=request_id,
        status=intent.status,
        waiting_for=waiting_for(parts, request_id),
        events=tuple(events),
    )


def waiting_for(parts: Components, request_id: str) -> str | None:
    """Why the intent waits (as in the operator list), or None once terminal."""
    parts.projector.catch_up()
    rows = queries.list_intents(
        parts.db, queries.ListFilter(limit=1, request_id=request_id), parts.clock()
    )
    if not rows:
        return None
    reads.explain(parts, rows)
    found: str | None = rows[0]["waiting_for"]
    return found


def verify(parts: Components, request_ids: Sequence[str] = ()) -> VerifyReport:
    """Recompute proof chains: of ``request_ids``, or of every aggregate in the log."""
    recorder = parts.log.recorder

    def name_of(key: Any) -> str:
        """The request_id of an intent whose first event cannot be read: from the view."""
        try:
            text = str(uuid.UUID(str(key)))
        except ValueError:
            return str(key)
        rows = parts.db.query("SELECT request_id FROM pq_intents WHERE intent_id = ?", (text,))
        return str(rows[0]["request_id"]) if rows else text

    if request_ids:
        named: dict[Any, str] = {}
        for request_id in request_ids:
            key = intent_id(request_id)
            if not recorder.select_events(key, limit=1):
                raise IntentNotFound(request_id)
            named[key] = request_id
        with parts.db.reading() as cur:
            heads = order.heads(cur, [str(key) for key in named])
        report = _verify(parts.log.mapper, recorder, named, name_of)
        rows = [(key, version, number) for key, (version, number) in heads.items()]
        found = order.heads_findings([rows], parts.log.events_at, parts.log.notification_of)
        return _with(report, found, name_of)
    # Each pass streams: the log by aggregate (chains, and each one's order by id), its ids
    # in order (gaps, on SQLite), the views' last applied events a page at a time.
    findings: list[damage.Damaged] = []
    report = _verify_all(parts.log.mapper, parts.log.by_aggregate(), name_of, findings)
    if order.log_is_sqlite(recorder):
        findings += order.gaps(0, parts.log.notification_ids())
    findings += order.heads_findings(
        order.head_rows(parts.db), parts.log.events_at, parts.log.notification_of
    )
    report = _with(report, findings, name_of)
    if report.intents == 0:  # nothing was verified: never report that as success
        return VerifyReport(0, report.events, [*report.problems, _empty_log(report.events)])
    return report


def _with(
    report: VerifyReport, findings: list[damage.Damaged], name_of: Callable[[Any], str]
) -> VerifyReport:
    """The report with the log-order findings about intents whose chain verifies (a chain
    that does not is named once, by its first bad event)."""
    chains = {problem.request_id for problem in report.problems}
    extra = []
    for item in findings:
        name = "(log)" if item.aggregate_id == order.LOG else name_of(item.aggregate_id)
        if name not in chains:
            extra.append(Problem(name, item.version, "-", item.reason))
    return VerifyReport(report.intents, report.events, [*report.problems, *extra])


def _empty_log(events: int) -> Problem:
    """The finding of a whole-log verify that found no intent to check."""
    if events == 0:
        problem = "the log is empty: no intents to verify"
    else:
        problem = f"the log holds no intents to verify (only {events} breaker events)"
    return Problem(request_id="(log)", seq=0, type="-", problem=problem)


def _verify(
    mapper: Any, recorder: Any, aggregates: dict[Any, str], name_of: Callable[[Any], str]
) -> VerifyReport:
    """Check each aggregate's chain in version order; name the first bad event of each.

    Every stored event is decoded strictly by itself; any failure (an undecodable state, an
    unknown topic, an id that is not an aggregate's, a field of the wrong type) is a
    finding about that event, never an error of the command."""
    problems: list[Problem] = []
    intents = events = 0
    for key, known_name in aggregates.items():
        try:
            stored = recorder.select_events(key)
        except Exception as exc:  # the store cannot give this aggregate's rows back
            problems.append(Problem(known_name or name_of(key), 1, "?", f"cannot read: {exc}"))
            continue
        events += len(stored)
        if stored and ":BreakerLog" not in str(stored[0].topic):
            intents += 1
        found = _check_chain(mapper, key, known_name, stored, name_of)
        if found is not None:
            problems.append(found)
    return VerifyReport(intents, events, problems)


def _verify_all(
    mapper: Any,
    stored_events: Iterator[Any],
    name_of: Callable[[Any], str],
    out_of_order: list[damage.Damaged],
) -> VerifyReport:
    """``_verify`` of every aggregate, streaming: the log comes each aggregate's events
    together, with their notification ids (``IntentLog.by_aggregate``), and each is checked
    as it streams by: its chain, and whether its ids follow its versions (findings added to
    ``out_of_order``). Memory stays flat however long the log; one aggregate's (id,
    version) pairs are held while it streams by."""
    problems: list[Problem] = []
    intents = events = 0

    for key, group in itertools.groupby(stored_events, key=lambda item: item.originator_id):
        seen: list[tuple[int, int]] = []

        def counted(items: Iterable[Any], seen: list[tuple[int, int]] = seen) -> Iterator[Any]:
            for item in items:
                seen.append((int(item.id), int(item.originator_version)))
                yield item

        first = next(group)
        if ":BreakerLog" not in str(first.topic):
            intents += 1
        rest = counted(itertools.chain((first,), group))  # noqa: B031  (used once, here)
        found = _check_chain(mapper, key, "", rest, name_of)
        for _ in rest:  # a chain stops at its first bad event: count (and place) the rest
            pass
        events += len(seen)
        if found is not None:
            problems.append(found)
            continue  # named once, by its first bad event
        placed = [pair for pair in seen if pair[1] > 0]  # a BadVersion is 0: it has no order
        moved = order.aggregate_order(damage.aggregate_key(key), placed)
        if moved is not None:
            out_of_order.append(moved)
    return VerifyReport(intents, events, problems)


def _check_chain(
    mapper: Any, key: Any, known_name: str, stored: Iterable[Any], name_of: Callable[[Any], str]
) -> Problem | None:
    """The first bad event of one aggregate's stored events (in version order), or None.

    A row whose stored version is no position (``BadVersion``) cannot say which event it
    was: it is named at the position the chain misses (its first gap, or the one after its
    last event), as the views name it."""
    name = known_name
    checker = ChainChecker()
    last = 0
    unplaced: Any = None  # the first row whose version is no position
    rows = iter(stored)
    for item in rows:
        if unplaced is None and is_bad(item.originator_version):
            unplaced = item
            continue
        if is_bad(item.originator_version):
            continue
        try:
            event: Any = mapper.to_domain_event(item)
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
        except Exception as exc:  # any failure to read the event is a finding
            reason = getattr(exc, "reason", None) or " ".join(str(exc).split())
            return Problem(
                name or name_of(key),
                item.originator_version,
                _type_of(item.topic),
                f"cannot decode: {reason}",
            )
        if found is not None:
            if found.seq < link.seq:  # a gap: a row with no position may have stood there
                unplaced = unplaced or next((r for r in rows if is_bad(r.originator_version)), None)
                if unplaced is not None:
                    return _unplaced(mapper, key, name, found.seq, unplaced, name_of)
            return Problem(name or name_of(key), found.seq, found.type_name, found.problem)
        last = link.seq
    if unplaced is not None:
        return _unplaced(mapper, key, name, last + 1, unplaced, name_of)
    return None


def _unplaced(
    mapper: Any, key: Any, name: str, seq: int, item: Any, name_of: Callable[[Any], str]
) -> Problem:
    """A row whose stored version is no position, named at position ``seq``. When it is
    the intent's ``Queued`` (so the views never knew its request_id), the request_id it
    holds names it if the intent's id is made from it."""
    if not name and seq == 1:
        with contextlib.suppress(Exception):  # then the id names it
            event = mapper.to_domain_event(replace(item, originator_version=1))
            if isinstance(event, Intent.Queued) and intent_id(event.request_id) == key:
                name = event.request_id
    reason = BadVersion(item.originator_version).reason
    return Problem(name or name_of(key), seq, _type_of(item.topic), reason)


def _type_of(topic: object) -> str:
    """The event type a stored topic names, as far as it can be read (for the report)."""
    text = str(topic)
    name = text.rsplit(".", 1)[-1] if ":" in text else "?"
    return name if name.isidentifier() else "?"
