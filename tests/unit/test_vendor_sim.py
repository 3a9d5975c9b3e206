"""The vendor simulator in-process, through httpx.ASGITransport, on a clock the test moves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from proofqueue.entrypoints.cli.sim import vendor_sim
from proofqueue.testing.simulator import SimConfig, SimulatedReset, Simulator

T = TypeVar("T")
BODY = {
    "providerWalletAddress": "0xP",
    "jobOfferingName": "summarize",
    "serviceRequirements": {"text": "hi"},
    "clientRequestId": "req-1",
    "isAutomated": True,
}


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sim:
    """A simulator and a way to call it, one request at a time."""

    def __init__(self, **settings: Any) -> None:
        self.clock = FakeClock()
        self.simulator = Simulator(SimConfig(**settings), clock=self.clock)

    def run(self, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """Runs an async scenario against the app (for concurrent requests)."""

        async def main() -> T:
            transport = httpx.ASGITransport(app=self.simulator.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                return await scenario(client)

        return asyncio.run(main())

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def one(client: httpx.AsyncClient) -> httpx.Response:
            return await client.request(method, path, **kwargs)

        return self.run(one)

    def create(self, body: Any = BODY, key: str | None = "req-1", **headers: str) -> httpx.Response:
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.call("POST", "/acp/jobs", json=body, headers=headers)

    def get(self, job_id: str, **headers: str) -> httpx.Response:
        return self.call("GET", f"/acp/jobs/{job_id}", headers=headers)

    def lookup(self, request_id: str | None, **headers: str) -> httpx.Response:
        params = {"clientRequestId": request_id} if request_id is not None else {}
        return self.call("GET", "/acp/jobs", params=params, headers=headers)

    def faults(self, **changes: Any) -> httpx.Response:
        return self.call("POST", "/_sim/faults", json=changes)

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.call("GET", "/_sim/stats").json()
        return data

    def requests(self) -> dict[str, int]:
        counts: dict[str, int] = self.stats()["requests"]
        return counts


def body(**changes: Any) -> dict[str, Any]:
    return {**BODY, **changes}


# ---- create and idempotency ----


def test_a_create_answers_201_with_a_job_id() -> None:
    """A good create makes one job and names it."""
    sim = Sim()
    response = sim.create()
    assert response.status_code == 201
    assert response.json() == {"data": {"jobId": "job-1"}}
    assert "Idempotent-Replayed" not in response.headers


def test_the_same_key_and_body_replays_the_first_answer() -> None:
    """A retried create gets the same job, marked as a replay, and no new job is made."""
    sim = Sim()
    first, second = sim.create(), sim.create()
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert sim.stats()["jobs"] == 1


def test_the_same_key_with_another_body_is_refused_422() -> None:
    """An Idempotency-Key belongs to one body."""
    sim = Sim()
    sim.create()
    response = sim.create(body(serviceRequirements={"text": "other"}))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]


def test_the_same_key_while_the_first_is_in_flight_is_refused_409() -> None:
    """During a slow create, a second create with its key gets 409, then the replay."""
    sim = Sim(slow_rate=1.0, slow_seconds=0.3)

    async def scenario(client: httpx.AsyncClient) -> list[int]:
        headers = {"Idempotency-Key": "req-1"}
        first = asyncio.create_task(client.post("/acp/jobs", json=BODY, headers=headers))
        await asyncio.sleep(0.1)
        during = await client.post("/acp/jobs", json=BODY, headers=headers)
        done = await first
        return [done.status_code, during.status_code]

    assert sim.run(scenario) == [201, 409]
    sim.faults(slow_rate=0.0)
    assert sim.create().status_code == 200
    assert sim.stats()["jobs"] == 1


def test_different_keys_make_different_jobs() -> None:
    """Two request ids, two jobs."""
    sim = Sim()
    assert sim.create(body(clientRequestId="a"), key="a").json()["data"]["jobId"] == "job-1"
    assert sim.create(body(clientRequestId="b"), key="b").json()["data"]["jobId"] == "job-2"


def test_without_idempotency_support_every_create_makes_a_job() -> None:
    """no_idempotency_key: the header is ignored and duplicates are counted."""
    sim = Sim(no_idempotency_key=True)
    assert [sim.create().status_code for _ in range(3)] == [201, 201, 201]
    stats = sim.stats()
    assert (stats["jobs"], stats["duplicates"], stats["jobs_per_request_id"]) == (
        3,
        2,
        {"req-1": 3},
    )


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        [BODY],
        body(providerWalletAddress=""),
        {k: v for k, v in BODY.items() if k != "jobOfferingName"},
        body(serviceRequirements=["a"]),
        body(serviceRequirements=None),
        body(clientRequestId=7),
        body(isAutomated="yes"),
    ],
)
def test_a_bad_body_is_refused_400(bad: Any) -> None:
    """Missing or ill-typed fields; serviceRequirements must be an object."""
    sim = Sim()
    if isinstance(bad, str):
        response = sim.call("POST", "/acp/jobs", content=bad)
    else:
        response = sim.create(bad)
    assert response.status_code == 400
    assert response.json()["error"]
    assert sim.stats()["jobs"] == 0
    assert sim.requests() == {"create_400": 1}


def test_a_configured_api_key_is_required_on_every_vendor_call() -> None:
    """Wrong or missing x-api-key: 401; the right one passes."""
    sim = Sim(api_key="sim-secret")
    assert sim.create().status_code == 401
    assert sim.create(**{"x-api-key": "wrong"}).status_code == 401
    assert sim.get("job-1").status_code == 401
    assert sim.lookup("req-1").status_code == 401
    assert sim.create(**{"x-api-key": "sim-secret"}).status_code == 201
    assert sim.requests() == {"create_401": 2, "get_401": 1, "lookup_401": 1, "create_201": 1}


def test_without_a_configured_key_any_key_is_accepted() -> None:
    """No api key configured: the header is not checked."""
    assert Sim().create(**{"x-api-key": "anything"}).status_code == 201


def test_an_unknown_provider_or_offering_is_refused_404() -> None:
    """With offerings listed, only those are sold."""
    sim = Sim(offerings=["0xP/summarize"])
    assert sim.create(body(jobOfferingName="translate"), key="a").status_code == 404
    assert sim.create(body(providerWalletAddress="0xQ"), key="b").status_code == 404
    assert sim.create(key="c").status_code == 201


# ---- jobs progress ----


def test_a_job_moves_through_the_phases_with_time_and_completes_with_a_deliverable() -> None:
    """REQUEST, NEGOTIATION, TRANSACTION, EVALUATION, then COMPLETED at complete_after."""
    sim = Sim(complete_after=4.0)
    job_id = sim.create().json()["data"]["jobId"]
    phases = []
    for _ in range(5):
        phases.append(sim.get(job_id).json()["data"]["phase"])
        sim.clock.advance(1.0)
    assert phases == ["REQUEST", "NEGOTIATION", "TRANSACTION", "EVALUATION", "COMPLETED"]
    job = sim.get(job_id).json()["data"]
    assert job["deliverable"] == {"id": "dlv-1", "type": "text", "value": "result of job-1"}
    assert [memo["nextPhase"] for memo in job["memos"]] == [
        "NEGOTIATION",
        "TRANSACTION",
        "EVALUATION",
        "COMPLETED",
    ]
    assert job["clientRequestId"] == "req-1"


def test_a_job_in_progress_has_no_deliverable() -> None:
    """The deliverable appears only on COMPLETED."""
    sim = Sim()
    assert sim.get(sim.create().json()["data"]["jobId"]).json()["data"]["deliverable"] is None


@pytest.mark.parametrize(
    ("setting", "phase"), [("reject_rate", "REJECTED"), ("expire_rate", "EXPIRED")]
)
def test_some_jobs_end_rejected_or_expired_without_a_deliverable(setting: str, phase: str) -> None:
    """reject_rate / expire_rate pick the bad endings."""
    sim = Sim(**{setting: 1.0, "complete_after": 1.0})
    job_id = sim.create().json()["data"]["jobId"]
    sim.clock.advance(1.0)
    job = sim.get(job_id).json()["data"]
    assert (job["phase"], job["deliverable"]) == (phase, None)


def test_reading_an_unknown_job_is_404() -> None:
    """A job id the vendor never gave out."""
    response = Sim().get("job-404")
    assert response.status_code == 404
    assert response.json() == {"error": "no such job"}


# ---- lookup ----


def test_the_lookup_returns_the_jobs_of_one_request_id() -> None:
    """Only that request id's jobs, each carrying clientRequestId."""
    sim = Sim(no_idempotency_key=True)
    sim.create(body(clientRequestId="a"))
    sim.create(body(clientRequestId="b"))
    sim.create(body(clientRequestId="a"))
    found = sim.lookup("a").json()["data"]
    assert [(j["id"], j["clientRequestId"]) for j in found] == [("job-1", "a"), ("job-3", "a")]
    assert sim.lookup("nobody").json() == {"data": []}


def test_the_lookup_needs_a_client_request_id() -> None:
    """No query parameter: 400."""
    assert Sim().lookup(None).status_code == 400


def test_without_lookup_support_the_lookup_answers_404() -> None:
    """no_lookup: as if the route did not exist."""
    sim = Sim(no_lookup=True)
    sim.create()
    assert sim.lookup("req-1").status_code == 404
    assert sim.requests()["lookup_404"] == 1


# ---- injected faults ----


def test_fail_before_answers_500_and_creates_nothing() -> None:
    """The plain failure: nothing happened at the vendor."""
    sim = Sim(fail_before=1.0)
    assert sim.create().status_code == 500
    assert sim.stats()["jobs"] == 0
    assert sim.requests() == {"create_500_before": 1}


def test_fail_after_answers_500_but_the_job_exists() -> None:
    """The ambiguous failure: the job was created, and a retry with the key replays it."""
    sim = Sim(fail_after=1.0)
    assert sim.create().status_code == 500
    assert sim.stats()["jobs"] == 1
    assert sim.lookup("req-1").json()["data"][0]["id"] == "job-1"
    sim.faults(fail_after=0.0)
    assert sim.create().json() == {"data": {"jobId": "job-1"}}
    assert sim.requests() == {"create_500_after": 1, "lookup_200": 1, "create_200_replay": 1}


def test_fail_after_does_not_apply_to_reads_but_fail_before_does() -> None:
    """Reads have nothing to do 'after'; fail_before fails them with 500."""
    sim = Sim()
    job_id = sim.create().json()["data"]["jobId"]
    sim.faults(fail_after=1.0)
    assert sim.get(job_id).status_code == 200
    assert sim.lookup("req-1").status_code == 200
    sim.faults(fail_after=0.0, fail_before=1.0)
    assert sim.get(job_id).status_code == 500
    assert sim.lookup("req-1").status_code == 500
    assert sim.requests()["get_500"] == sim.requests()["lookup_500"] == 1


def test_rate_limit_answers_429_with_retry_after() -> None:
    """rate_limit: 429 and the configured Retry-After, nothing created."""
    sim = Sim(rate_limit=1.0, retry_after=2.5)
    response = sim.create()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2.5"
    assert sim.stats()["jobs"] == 0
    assert sim.requests() == {"rate_limited": 1}


def test_an_outage_window_fails_every_call_with_500_then_ends() -> None:
    """Inside START:END (seconds from start) every vendor call fails; after it, all is well."""
    sim = Sim(outage=[(10.0, 20.0)])
    sim.clock.advance(15.0)
    assert [sim.create().status_code, sim.get("job-1").status_code] == [500, 500]
    assert sim.stats()["jobs"] == 0
    sim.clock.advance(10.0)
    assert sim.create().status_code == 201
    assert sim.requests() == {"outage": 2, "create_201": 1}


def test_outage_now_switches_the_outage_on_and_off_at_run_time() -> None:
    """outage_now forces the outage until it is turned off."""
    sim = Sim()
    sim.faults(outage_now=True)
    assert sim.create().status_code == 500
    sim.faults(outage_now=False)
    assert sim.create().status_code == 201


@pytest.mark.parametrize("call", ["create", "get", "lookup"])
def test_a_reset_drops_the_connection_mid_answer(call: str) -> None:
    """reset_rate: the answer starts and never finishes (the server drops the connection)."""
    sim = Sim(reset_rate=1.0, seed=1)
    calls: dict[str, Callable[[], httpx.Response]] = {
        "create": sim.create,
        "get": lambda: sim.get("job-1"),
        "lookup": lambda: sim.lookup("r"),
    }
    with pytest.raises(SimulatedReset):
        calls[call]()


def test_a_reset_create_made_the_job_in_about_half_the_cases() -> None:
    """A dropped create may or may not have created its job: 'reset_after' says it did."""
    sim = Sim(reset_rate=1.0, seed=7)
    for n in range(40):
        with pytest.raises(SimulatedReset):
            sim.create(body(clientRequestId=f"r{n}"), key=f"r{n}")
    requests, jobs = sim.requests(), sim.stats()["jobs"]
    assert requests["reset"] + requests["reset_after"] == 40
    assert jobs == requests["reset_after"]
    assert 8 <= jobs <= 32


def test_a_timeout_creates_the_job_then_hangs_before_answering() -> None:
    """timeout_rate: the job exists at once; the answer comes after hang_seconds."""
    sim = Sim(timeout_rate=1.0, hang_seconds=0.2)
    started = time.monotonic()
    response = sim.create()
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 201
    assert sim.requests() == {"timeout": 1}
    assert sim.stats()["jobs"] == 1


def test_closing_the_simulator_ends_a_hang_at_once() -> None:
    """A 30 s hang does not hold up shutdown."""
    sim = Sim(timeout_rate=1.0, hang_seconds=30.0)

    async def scenario(client: httpx.AsyncClient) -> float:
        started = time.monotonic()
        pending = asyncio.create_task(client.get("/acp/jobs/job-1"))
        await asyncio.sleep(0.1)
        sim.simulator.close()
        await pending
        return time.monotonic() - started

    assert sim.run(scenario) < 2.0


def test_a_slow_read_answers_correctly_after_the_delay() -> None:
    """slow_rate: right answer, late."""
    sim = Sim()
    job_id = sim.create().json()["data"]["jobId"]
    sim.faults(slow_rate=1.0, slow_seconds=0.2)
    started = time.monotonic()
    assert sim.get(job_id).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fault_rates_are_drawn_once_per_request_and_seeded() -> None:
    """Each fault happens at about its rate; the same seed gives the same sequence."""

    def outcomes(seed: int) -> list[int]:
        sim = Sim(fail_before=0.3, rate_limit=0.2, seed=seed)

        async def scenario(client: httpx.AsyncClient) -> list[int]:
            return [(await client.get("/acp/jobs/none")).status_code for _ in range(500)]

        return sim.run(scenario)

    first = outcomes(3)
    assert first == outcomes(3)
    assert 100 <= first.count(500) <= 200
    assert 60 <= first.count(429) <= 140
    assert first.count(500) + first.count(429) + first.count(404) == 500


# ---- stats and control ----


def test_stats_count_outcomes_jobs_and_duplicates() -> None:
    """Every vendor call is counted once by outcome; control calls are not counted."""
    sim = Sim()
    sim.create()
    sim.create()
    sim.get("job-1")
    sim.get("job-2")
    sim.lookup("req-1")
    assert sim.stats() == {
        "requests": {
            "create_201": 1,
            "create_200_replay": 1,
            "get_200": 1,
            "get_404": 1,
            "lookup_200": 1,
        },
        "jobs": 1,
        "duplicates": 0,
        "jobs_per_request_id": {"req-1": 1},
    }


def test_the_fault_settings_change_at_run_time_and_are_answered_back() -> None:
    """POST /_sim/faults validates, applies and returns the new settings (never the key)."""
    sim = Sim(api_key="sim-secret")
    response = sim.faults(fail_before=0.25, outage=[[1, 2]], offerings=["a/b"])
    assert response.status_code == 200
    settings = response.json()
    assert (settings["fail_before"], settings["outage"], settings["offerings"]) == (
        0.25,
        [[1.0, 2.0]],
        ["a/b"],
    )
    assert settings["api_key_set"] is True
    assert "sim-secret" not in response.text
    assert sim.call("GET", "/_sim/faults").json() == settings


@pytest.mark.parametrize(
    "change",
    [
        {"fail_before": 2},
        {"fail_after": -0.1},
        {"slow_rate": "often"},
        {"hang_seconds": -1},
        {"outage": [[5, 2]]},
        {"offerings": ["no-slash"]},
        {"fail_before": 0.6, "fail_after": 0.6},
        {"reject_rate": 0.7, "expire_rate": 0.7},
        {"bogus": 1},
        {"port": 1234},
        {"api_key": "steal"},
    ],
)
def test_bad_fault_settings_are_refused_400_and_change_nothing(change: dict[str, Any]) -> None:
    """Out of range, wrong type, unknown or fixed-at-start settings."""
    sim = Sim()
    before = sim.call("GET", "/_sim/faults").json()
    response = sim.faults(**change)
    assert response.status_code == 400
    assert response.json()["error"]
    assert sim.call("GET", "/_sim/faults").json() == before


def test_a_fault_settings_body_must_be_a_json_object() -> None:
    """Not JSON, or not an object: 400."""
    sim = Sim()
    assert sim.call("POST", "/_sim/faults", content="nope").status_code == 400
    assert sim.call("POST", "/_sim/faults", json=[1]).status_code == 400


def test_control_routes_never_fail_by_injected_faults() -> None:
    """Outage and fault rates only touch the vendor routes."""
    sim = Sim(outage_now=True, fail_before=1.0, api_key="k")
    assert sim.call("GET", "/_sim/healthz").status_code == 200
    assert sim.call("GET", "/_sim/stats").status_code == 200
    assert sim.faults(outage_now=False).status_code == 200


# ---- configuration and command line ----


def test_the_config_never_shows_its_api_key() -> None:
    """repr and the public view hide the key."""
    config = SimConfig(api_key="sim-secret")
    assert "sim-secret" not in repr(config)
    assert "sim-secret" not in str(config.public())


@pytest.mark.parametrize(
    "settings",
    [
        {"fail_before": 1.5},
        {"timeout_rate": float("nan")},
        {"outage": [(3, 1)]},
        {"port": 70000},
        {"unknown": 1},
    ],
)
def test_a_bad_config_is_refused(settings: dict[str, Any]) -> None:
    """Rates in [0, 1], ordered windows, a real port, known names."""
    with pytest.raises(ValidationError):
        SimConfig(**settings)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--fail-before", "1.5"], "--fail-before"),
        (["--timeout-rate", "nan"], "--timeout-rate"),
        (["--outage", "5:2"], "--outage"),
        (["--offering", "nothing"], "--offering"),
        (["--port", "-1"], "--port"),
        (["--fail-before", "0.6", "--fail-after", "0.6"], "--fail-after"),
    ],
)
def test_the_command_refuses_bad_flags_with_a_usage_error(args: list[str], flag: str) -> None:
    """Exit 2 with a message naming the flag; nothing is served."""
    result = CliRunner().invoke(vendor_sim, args)
    assert result.exit_code == 2
    assert flag in result.output
