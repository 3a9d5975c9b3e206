"""The console's actions (``POST /console/a/...``): retry (a FAILED intent is reopened),
cancel with a reason, hold and release the vendor, and bulk retry or cancel by filter.

Each is behind the token check with its own role check (the same actions as the JSON API),
and is recorded with the token's name as the operator. Bodies are the forms htmx sends
(``application/x-www-form-urlencoded``, at most 64 KiB). The answer is a fragment saying
what was done, or why it was refused (a refusal is part of the answer, status 200); a
change asks the page to refresh its fragments (``HX-Trigger: pq-changed``).

A bulk action is two steps. The preview counts the intents matching the filter, pins the
set (queued before now, and a digest of its ids) and shows a confirmation stating how many.
The confirmation acts only if the filter still matches exactly that set (same digest);
otherwise it shows the new count and asks again. So it acts on exactly what was confirmed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import Response

from proofqueue.domain.access import Action
from proofqueue.domain.errors import InvalidInput, ProofQueueError
from proofqueue.entrypoints.console.pages import filters_of_form, older_than, statuses
from proofqueue.entrypoints.console.render import page
from proofqueue.entrypoints.http.answers import Problem
from proofqueue.entrypoints.http.auth import Caller
from proofqueue.entrypoints.http.pools import Handlers

MAX_FORM = 64 * 1024
CHANGED = {"HX-Trigger": "pq-changed"}


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the last value of each)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Problem(415, "the console posts forms (application/x-www-form-urlencoded)")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM:
            raise Problem(413, f"the form must be at most {MAX_FORM} bytes")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=40)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body", "is not a form") from None
    return {name: values[-1] for name, values in fields.items()}


def digest(ids: list[str]) -> str:
    """What pins a bulk set: the SHA-256 of its ids, sorted, one a line (the set, whatever
    order the list shows it in: intents move between QUEUED and RETRYING meanwhile)."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


class ConsoleActs(Handlers):
    """``POST /console/a/{retry,cancel,hold,release,bulk-preview,bulk}``."""

    async def _one(self, act: Callable[[], object], done: str) -> Response:
        try:
            await self.pools.short(act)
        except ProofQueueError as exc:
            return page("flash.html", ok=False, text=str(exc))
        return page("flash.html", ok=True, text=done, headers=CHANGED)

    async def retry(self, request: Request, caller: Caller) -> Response:
        form = await read_form(request)
        rid = form.get("request_id", "")
        return await self._one(
            lambda: self.pq.retry(rid, operator=caller.name),
            f"{rid}: retry recorded by {caller.name}",
        )

    async def cancel(self, request: Request, caller: Caller) -> Response:
        form = await read_form(request)
        rid, reason = form.get("request_id", ""), form.get("reason", "")
        return await self._one(
            lambda: self.pq.cancel(rid, reason=reason, operator=caller.name),
            f"{rid}: cancelled by {caller.name}",
        )

    async def cancel_form(self, request: Request, caller: Caller) -> Response:
        rid = request.query_params.get("id", "")[:255]
        return page("cancel.html", rid=rid)

    async def hold(self, request: Request, caller: Caller) -> Response:
        form = await read_form(request)
        reason = form.get("reason", "")
        return await self._one(
            lambda: self.pq.hold_vendor(reason=reason, operator=caller.name),
            f"vendor held by {caller.name}",
        )

    async def release(self, request: Request, caller: Caller) -> Response:
        await read_form(request)
        return await self._one(
            lambda: self.pq.release_vendor(operator=caller.name),
            f"vendor released by {caller.name}",
        )

    async def _matching(self, form: dict[str, str], queued_before: float | None) -> list[str]:
        chosen = filters_of_form(form)
        return await self.pools.short(
            lambda: self.pq.matching(
                status=statuses(chosen),
                actor=chosen["actor"] or None,
                target=chosen["target"] or None,
                older_than=older_than(chosen),
                queued_before=queued_before,
            )
        )

    async def preview(self, request: Request, caller: Caller) -> Response:
        """Count what the filter matches now and ask to confirm exactly that set."""
        form = await read_form(request)
        action = _action(form, caller)
        now = (await self.pools.short(self.pq.parts.clock)).timestamp()
        try:
            ids = await self._matching(form, now)
        except ProofQueueError as exc:
            return page("flash.html", ok=False, text=str(exc))
        return self._confirm(form, action, ids, now, changed=None)

    def _confirm(
        self, form: dict[str, str], action: str, ids: list[str], at: float, changed: int | None
    ) -> Response:
        chosen = filters_of_form(form)
        return page(
            "bulk_confirm.html",
            action=action,
            count=len(ids),
            sample=ids[:5],
            chosen=chosen,
            fields=urlencode(chosen),
            queued_before=repr(at),
            digest=digest(ids),
            reason=form.get("reason", ""),
            changed=changed,
        )

    async def bulk(self, request: Request, caller: Caller) -> Response:
        """Act on the confirmed set, or ask again when the filter now matches another."""
        form = await read_form(request)
        action = _action(form, caller)
        try:
            pinned = float(form.get("queued_before", ""))
        except ValueError:
            pinned = math.nan
        if not math.isfinite(pinned):
            raise InvalidInput("queued_before", "must be the time the confirmation was shown")
        try:
            ids = await self._matching(form, pinned)
        except ProofQueueError as exc:
            return page("flash.html", ok=False, text=str(exc))
        if digest(ids) != form.get("digest") or str(len(ids)) != form.get("count"):
            return self._confirm(form, action, ids, pinned, changed=len(ids))
        reason = form.get("reason", "")
        if action == "cancel" and not reason.strip():
            return page("flash.html", ok=False, text="a bulk cancel needs a reason")

        def act(rid: str) -> object:
            if action == "retry":
                return self.pq.retry(rid, operator=caller.name)
            return self.pq.cancel(rid, reason=reason, operator=caller.name)

        acted, refused = await self.pools.slow(_each, ids, act)
        return page(
            "bulk_done.html",
            action=action,
            acted=acted,
            refused=refused,
            operator=caller.name,
            headers=CHANGED,
        )


def _each(ids: list[str], act: Callable[[str], object]) -> tuple[list[str], list[tuple[str, str]]]:
    """Act on each id in turn: one event each; a refusal of one is noted, the rest go on."""
    acted: list[str] = []
    refused: list[tuple[str, str]] = []
    for rid in ids:
        try:
            act(rid)
        except ProofQueueError as exc:
            refused.append((rid, str(exc)))
        else:
            acted.append(rid)
    return acted, refused


def _action(form: dict[str, str], caller: Caller) -> str:
    action = form.get("action", "")
    needed = {"retry": Action.RETRY, "cancel": Action.CANCEL}.get(action)
    if needed is None:
        raise InvalidInput("action", "must be retry or cancel")
    if needed not in caller.allowed:
        raise Problem(403, f"the {caller.role} role may not {needed.value}")
    return action
