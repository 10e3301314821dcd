"""The live dashboard (card 145): events published after the commit, the async stream served by uvicorn in this
process (its real entry point, and the same handler with short heartbeats and backoff), its ticket, its scope, its
replay, its kpi tick and heartbeat, its clean end, a Redis restart under it, and the polling fallback."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace

import functions_framework
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from functions.metrics_stream.handling import answer_stream
from shared.cache import get_redis
from shared.config import get_settings
from shared.conversations.models import ConversationStatus, SenderKind
from shared.db import session_scope
from shared.leads.models import LeadStatus
from shared.metrics import live
from shared.metrics.live_access import ticket_key
from shared.metrics.live_kpis import live_kpis
from shared.metrics.live_stream import StreamTiming
from shared.migrate import PROJECT_ROOT
from shared.whatsapp.intake import receive_message
from shared.whatsapp.webhooks import parse_webhook
from tests.functions.metrics_support import add_conversation, add_lead, add_message, at
from tests.functions.test_webhook_intake import message_body

STREAM = "/api/v1/dashboard/stream"
TICKET = "/api/v1/dashboard/stream-ticket"
FAST = StreamTiming(heartbeat_seconds=0.3, backoff_first=0.05, backoff_max=0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def urls(backends):
    """The stream function as deployed (main.py) and the same handler with a 0.3 s heartbeat and quick retries."""
    real = functions_framework.create_app("metrics_stream", str(PROJECT_ROOT / "functions/metrics_stream/main.py"))
    fast = Starlette(routes=[Route("/{path:path}", partial(answer_stream, timing=FAST), methods=["GET", "POST"])])
    started = [serve(real), serve(fast)]
    yield SimpleNamespace(real=started[0][1], fast=started[1][1])
    for server, _ in started:
        server.should_exit = True


@dataclass
class Sse:
    """One open stream, read block by block (an event, or comments)."""

    lines: Iterator[str]
    blocks: list[dict] = field(default_factory=list)

    def read(self, until: Callable[[list[dict]], bool], seconds: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + seconds
        block: dict = {"comments": []}
        for line in self.lines:
            if line == "":
                self.blocks.append(block)
                block = {"comments": []}
                if until(self.blocks):
                    return self.blocks
            elif line.startswith(":"):
                block["comments"].append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                block[name] = value.removeprefix(" ")
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"the stream did not show what was expected in {seconds} s: {self.blocks}")

    def events(self, name: str | None = None) -> list[dict]:
        return [b for b in self.blocks if "event" in b and (name is None or b["event"] == name)]

    def domain_events(self) -> list[dict]:
        return [b for b in self.events() if b["event"] != live.KPI]


def count_of(name: str, n: int) -> Callable[[list[dict]], bool]:
    return lambda blocks: sum(1 for b in blocks if b.get("event") == name) >= n


def domain_count(n: int) -> Callable[[list[dict]], bool]:
    return lambda blocks: sum(1 for b in blocks if b.get("event") not in (None, live.KPI)) >= n


def opened(url: str, **kwargs):
    return httpx.stream("GET", url + STREAM, timeout=httpx.Timeout(10.0), **kwargs)


def data_of(block: dict) -> dict:
    return json.loads(block["data"])


def ticket_for(metrics_api, headers: dict) -> str:
    response = metrics_api.post(TICKET, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["ticket"]


def conversation(assigned_to: uuid.UUID | None = None, status=ConversationStatus.ACTIVE) -> uuid.UUID:
    with session_scope() as session:
        return add_conversation(session, created_at=datetime.now(UTC), assigned_to=assigned_to, status=status).id


def test_a_ticket_opens_the_stream_once_and_the_events_arrive_without_any_message_text(urls, metrics_api, people):
    chat = conversation(people.ana.id)
    ticket = ticket_for(metrics_api, people.admin_h)
    stored = get_redis().get(ticket_key(ticket))
    assert stored is not None and ticket not in stored  # Redis holds a hash of the ticket, never the ticket
    assert 55 <= get_redis().ttl(ticket_key(ticket)) <= 60

    with opened(urls.real, params={"ticket": ticket}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store" and response.headers["x-api-version"] == "1"
        sse = Sse(response.iter_lines())
        sse.read(count_of(live.KPI, 1))  # the first tick tells the dashboard where it stands
        receive_message(parse_webhook(message_body("Meu CPF é 123.456.789-00", sender="5511977776666@c.us")),
                        get_settings(), None)  # fmt: skip
        live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
        sse.read(domain_count(2))

    first = sse.blocks[0]
    assert first.get("retry") == "3000"
    received = sse.domain_events()
    assert [b["event"] for b in received] == [live.MESSAGE_RECEIVED, live.MESSAGE_RECEIVED]
    assert all(b["id"] for b in received) and received[0]["id"] < received[1]["id"]
    assert set(data_of(received[0])) == {"conversation_id", "message_id", "at"}  # ids only: no body, no phone
    assert "123.456" not in str(sse.blocks)
    again = httpx.get(urls.real + STREAM, params={"ticket": ticket}, timeout=5)
    assert again.status_code == 401 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == "Unknown, used or expired stream ticket"


def test_an_expired_or_unknown_ticket_is_refused_and_a_bearer_header_works_too(urls, metrics_api, people):
    ticket = ticket_for(metrics_api, people.ana_h)
    get_redis().pexpire(ticket_key(ticket), 1)
    time.sleep(0.05)

    expired = httpx.get(urls.real + STREAM, params={"ticket": ticket}, timeout=5)
    unknown = httpx.get(urls.real + STREAM, params={"ticket": "x" * 43}, timeout=5)
    anonymous = httpx.get(urls.real + STREAM, headers={"X-Request-ID": "abc-123"}, timeout=5)
    with opened(urls.real, headers=people.ana_h) as response:
        assert response.status_code == 200
        Sse(response.iter_lines()).read(count_of(live.KPI, 1))

    assert expired.status_code == unknown.status_code == anonymous.status_code == 401
    assert anonymous.json()["status"] == 401 and anonymous.headers["x-request-id"] == "abc-123"
    assert anonymous.json()["request_id"] == "abc-123" and anonymous.json()["instance"] == STREAM
    assert metrics_api.post(TICKET).status_code == 401


def test_wrong_paths_methods_scopes_and_ids_answer_problems(urls, people):
    other = httpx.get(urls.real + "/api/v1/dashboard/stream/x", headers=people.admin_h, timeout=5)
    posted = httpx.post(urls.real + STREAM, headers=people.admin_h, timeout=5)
    foreign = httpx.get(urls.real + STREAM, params={"user_id": str(people.bia.id)}, headers=people.ana_h, timeout=5)
    unknown_user = httpx.get(urls.real + STREAM, params={"user_id": str(uuid.uuid4())}, headers=people.admin_h,
                             timeout=5)  # fmt: skip
    bad_id = httpx.get(urls.real + STREAM, headers={**people.admin_h, "Last-Event-ID": "yesterday"}, timeout=5)
    bad_zone = httpx.get(urls.real + STREAM, params={"tz": "-03:00"}, headers=people.admin_h, timeout=5)

    assert other.status_code == 404 and posted.status_code == 405 and posted.headers["allow"] == "GET"
    assert foreign.status_code == 403 and unknown_user.status_code == 404
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "Last-Event-ID"
    assert bad_zone.status_code == 422 and bad_zone.json()["errors"][0]["field"] == "tz"


def test_a_secretary_sees_only_what_is_assigned_to_her_and_an_admin_everything(urls, people, secretary_api):
    anas, bias, nobodys = conversation(people.ana.id), conversation(people.bia.id), conversation(None)
    with opened(urls.fast, headers=people.ana_h) as ana_response, opened(urls.fast, headers=people.admin_h) as admin:
        ana, everyone = Sse(ana_response.iter_lines()), Sse(admin.iter_lines())
        ana.read(count_of(live.KPI, 1)), everyone.read(count_of(live.KPI, 1))
        for chat in (anas, bias, nobodys):
            live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
        created = secretary_api.post("/api/v1/leads", json={"name": "Maria", "phone_number": "11987654321"},
                                     headers=people.ana_h)  # fmt: skip
        assert created.status_code == 201
        lead_id = created.json["id"]
        assert secretary_api.patch(f"/api/v1/leads/{lead_id}", json={"status": "SCHEDULED"},
                                   headers=people.ana_h).status_code == 200  # fmt: skip
        moved = secretary_api.patch(f"/api/v1/conversations/{bias}/status", json={"status": "WAITING_SECRETARY"},
                                    headers=people.admin_h)  # fmt: skip
        assert moved.status_code == 200
        everyone.read(domain_count(6))
        ana.read(domain_count(3))
        seen = len(ana.blocks)  # anything else meant for her would come before two more heartbeats
        ana.read(lambda blocks: sum("heartbeat" in b["comments"] for b in blocks[seen:]) >= 2, seconds=3)

    assert [(b["event"], data_of(b).get("conversation_id")) for b in everyone.domain_events()] == [
        (live.MESSAGE_RECEIVED, str(anas)), (live.MESSAGE_RECEIVED, str(bias)), (live.MESSAGE_RECEIVED, str(nobodys)),
        (live.LEAD_CREATED, None), (live.LEAD_CONVERTED, None), (live.CONVERSATION_STATUS, str(bias)),
    ]  # fmt: skip
    mine = ana.domain_events()
    assert [b["event"] for b in mine] == [live.MESSAGE_RECEIVED, live.LEAD_CREATED, live.LEAD_CONVERTED]
    assert data_of(mine[0])["conversation_id"] == str(anas)
    assert data_of(mine[1]) | {"at": None} == {"lead_id": lead_id, "conversation_id": None, "status": "NEW",
                                               "source": "MANUAL", "assigned_to_user_id": str(people.ana.id),
                                               "at": None}  # fmt: skip
    assert data_of(mine[2])["converted_at"] is not None
    assert data_of(everyone.domain_events()[5])["status"] == "WAITING_SECRETARY"


def test_a_reconnect_with_last_event_id_gets_exactly_what_it_missed_then_goes_on(urls, people):
    chat = conversation(None)

    def publish(n: int) -> list[str]:
        return [live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4()) for _ in range(n)]

    with opened(urls.fast, headers=people.admin_h) as response:
        sse = Sse(response.iter_lines())
        sse.read(count_of(live.KPI, 1))
        seen = publish(2)
        sse.read(domain_count(2))
    missed = publish(3)
    with opened(urls.fast, headers={**people.admin_h, "Last-Event-ID": seen[-1]}) as response:
        again = Sse(response.iter_lines())
        again.read(domain_count(3))
        later = publish(1)
        again.read(domain_count(4))
    with opened(urls.fast, params={"last_event_id": missed[0]}, headers=people.admin_h) as response:
        by_query = Sse(response.iter_lines())
        by_query.read(domain_count(3))

    assert [b["id"] for b in sse.domain_events()] == seen
    assert [b["id"] for b in again.domain_events()] == missed + later
    assert [b["id"] for b in by_query.domain_events()] == missed[1:] + later


def test_the_kpi_ticks_at_most_once_a_second_with_todays_numbers_for_the_scope(urls, people):
    now = datetime.now(UTC)
    with session_scope() as session:
        anas = add_conversation(session, created_at=now, assigned_to=people.ana.id,
                                status=ConversationStatus.WAITING_SECRETARY)  # fmt: skip
        add_message(session, anas, now, SenderKind.PATIENT)
        add_message(session, anas, now, SenderKind.BOT)
        bias = add_conversation(session, created_at=now, assigned_to=people.bia.id)
        add_message(session, bias, now, SenderKind.PATIENT)
        add_lead(session, created_at=now, conversation=anas, assigned_to=people.ana.id,
                 status=LeadStatus.SCHEDULED, converted_at=now)  # fmt: skip
        add_lead(session, created_at=now - timedelta(days=3), assigned_to=people.bia.id)
        chat = anas.id
    with opened(urls.real, headers=people.ana_h) as response:
        sse = Sse(response.iter_lines())
        sse.read(count_of(live.KPI, 1))
        started, published = time.monotonic(), 0
        while time.monotonic() - started < 2.3:  # an event every 50 ms or so
            published += bool(live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4()))
            time.sleep(0.05)
        sse.read(domain_count(published))
        sse.read(count_of(live.KPI, 3), seconds=2)

    ticks = [b for b in sse.blocks if b.get("event") == live.KPI]
    # 2.3 s of events after the first tick: at most one tick a second, so the 2nd and 3rd at about 1 s and 2 s.
    assert len(ticks) <= 4
    numbers = data_of(ticks[0])
    assert numbers["user_id"] == str(people.ana.id) and numbers["tz"] == "America/Sao_Paulo"
    # Ana's: her conversation's one patient message (the bot's does not count), her lead, converted today, and her
    # conversation waiting; Bia's message and lead are not hers.
    assert (numbers["patient_messages_today"], numbers["new_leads_today"], numbers["conversions_today"],
            numbers["waiting_conversations"]) == (1, 1, 1, 1)  # fmt: skip
    # A tick's id is where the stream stands: the last event sent before it, so a reconnect after it misses nothing.
    before_second = [b for b in sse.blocks[: sse.blocks.index(ticks[1])] if b.get("event") == live.MESSAGE_RECEIVED]
    assert ticks[1]["id"] == before_second[-1]["id"]


def test_kpi_ticks_are_a_second_apart(urls, people):
    chat = conversation(None)
    with opened(urls.fast, headers=people.admin_h) as response:
        sse = Sse(response.iter_lines())
        stamps: list[float] = []

        def tick_seen(blocks: list[dict]) -> bool:
            if blocks[-1].get("event") == live.KPI:
                stamps.append(time.monotonic())
            live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
            return len(stamps) >= 3

        sse.read(tick_seen, seconds=6)
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert len(gaps) == 2 and all(gap >= 0.9 for gap in gaps), gaps


def test_a_quiet_stream_sends_heartbeats_and_ends_cleanly_at_its_limit(urls, people, settings_env):
    with opened(urls.fast, headers=people.admin_h) as response:
        quiet = Sse(response.iter_lines())
        quiet.read(lambda blocks: sum("heartbeat" in b["comments"] for b in blocks) >= 2, seconds=3)
    settings_env(STREAM_MAX_SECONDS="1")
    started = time.monotonic()
    with opened(urls.real, headers=people.admin_h) as response:
        body = response.read().decode()
    elapsed = time.monotonic() - started

    assert [b.get("event") for b in quiet.blocks if "event" in b] == [live.KPI]
    assert 0.9 < elapsed < 3, elapsed
    assert body.startswith("retry: 3000\n\n") and "event: kpi" in body
    assert body.endswith(": this stream ends here; reconnect with Last-Event-ID to go on\n\n")


@pytest.fixture
def own_redis(settings_env):
    """A throwaway Redis of this test's own (no persistence), which the test may kill and start again."""
    port = free_port()

    def start() -> subprocess.Popen:
        process = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                                   stdout=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return process
            except OSError:
                time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    server = SimpleNamespace(process=start(), start=start)
    settings_env(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    yield server
    server.process.kill()
    server.process.wait()


def test_the_stream_survives_a_redis_restart_and_goes_on_without_resending(urls, people, own_redis):
    chat = conversation(None)
    with opened(urls.fast, headers=people.admin_h) as response:
        sse = Sse(response.iter_lines())
        sse.read(count_of(live.KPI, 1))
        before = live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
        sse.read(domain_count(1))
        own_redis.process.kill()
        own_redis.process.wait()
        beats = len(sse.blocks)
        sse.read(lambda blocks: sum("heartbeat" in b["comments"] for b in blocks[beats:]) >= 2, seconds=3)
        own_redis.process = own_redis.start()  # the same port, empty
        time.sleep(0.3)  # the stream reconnects (backoff at most 0.2 s)
        after = live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
        sse.read(domain_count(2))

    assert before is not None and after is not None
    assert [b["id"] for b in sse.domain_events()] == [before, after]


def test_publishing_with_redis_down_neither_fails_nor_waits(settings_env, make_user):
    settings_env(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = time.monotonic()
    first = live.publish(live.MESSAGE_RECEIVED, conversation_id=uuid.uuid4(), message_id=uuid.uuid4())
    second = live.publish(live.MESSAGE_RECEIVED, conversation_id=uuid.uuid4(), message_id=uuid.uuid4())
    elapsed = time.monotonic() - started
    with session_scope() as session:
        lead = add_lead(session, created_at=datetime.now(UTC), assigned_to=make_user().id)
        live.announce_lead_created(session, lead)  # published after this commit: it must not raise either

    assert first is None and second is None and elapsed < 1, elapsed


def test_nothing_is_published_for_a_transaction_that_rolls_back(make_user):
    ana, bia = make_user(), make_user()
    with pytest.raises(RuntimeError), session_scope() as session:
        lead = add_lead(session, created_at=datetime.now(UTC), assigned_to=ana.id)
        live.announce_lead_created(session, lead)
        raise RuntimeError("rolled back")
    with session_scope() as session:
        lead = add_lead(session, created_at=datetime.now(UTC), assigned_to=ana.id)
        live.announce_lead_created(session, lead)
        lead.assigned_to_user_id = bia.id  # described at commit: the event carries the committed assignee

    entries = get_redis().xrange(live.stream_key())
    assert len(entries) == 1 and f'"assigned_to_user_id": "{bia.id}"' in entries[0][1]["data"]


def test_the_polling_fallback_answers_the_same_numbers_and_events(metrics_api, people):
    anas, nobodys = conversation(people.ana.id), conversation(None)
    start = metrics_api.get("/api/v1/dashboard/live", headers=people.ana_h)
    assert start.status_code == 200 and start.json["events"] == []
    ids = [live.publish(live.MESSAGE_RECEIVED, conversation_id=chat, message_id=uuid.uuid4())
           for chat in (anas, nobodys, anas)]  # fmt: skip

    hers = metrics_api.get(f"/api/v1/dashboard/live?since={start.json['last_id']}", headers=people.ana_h).json
    everything = metrics_api.get(f"/api/v1/dashboard/live?since={start.json['last_id']}&limit=2",
                                 headers=people.admin_h).json  # fmt: skip
    rest = metrics_api.get(f"/api/v1/dashboard/live?since={everything['last_id']}", headers=people.admin_h).json

    assert [e["id"] for e in hers["events"]] == [ids[0], ids[2]] and hers["last_id"] == ids[2]
    assert [e["id"] for e in everything["events"]] == ids[:2] and everything["more"] is True
    assert [e["id"] for e in rest["events"]] == ids[2:] and rest["more"] is False
    assert hers["kpi"]["user_id"] == str(people.ana.id) and everything["kpi"]["user_id"] is None
    assert metrics_api.get("/api/v1/dashboard/live?since=soon", headers=people.ana_h).status_code == 422
    assert metrics_api.get(f"/api/v1/dashboard/live?user_id={people.bia.id}", headers=people.ana_h).status_code == 403


def test_todays_numbers_count_from_the_clinics_midnight(make_user):
    ana, bia = make_user(), make_user()
    now = at("2026-11-02 23:59")
    with session_scope() as session:
        chat = add_conversation(session, created_at=at("2026-11-01 23:00"), assigned_to=ana.id,
                                status=ConversationStatus.WAITING_SECRETARY)  # fmt: skip
        for when in ("2026-11-01 23:59", "2026-11-02 00:00", "2026-11-02 12:00", "2026-11-02 23:58"):
            add_message(session, chat, at(when), SenderKind.PATIENT)
        add_lead(session, created_at=at("2026-11-01 23:59"), conversation=chat, assigned_to=ana.id,
                 status=LeadStatus.SCHEDULED, converted_at=at("2026-11-02 00:01"))  # fmt: skip
        add_lead(session, created_at=at("2026-11-02 08:00"), assigned_to=bia.id)
        add_lead(session, created_at=at("2026-11-02 09:00"), deleted_at=at("2026-11-02 10:00"))
    with session_scope() as session:
        clinic = live_kpis(session, None, now=now)
        ana = live_kpis(session, ana.id, now=now)
        manaus = live_kpis(session, None, "America/Manaus", now=now)  # 22:59 on 2 Nov there, one hour behind

    # São Paulo's 2 Nov: three of the four messages (23:59 on the 1st is the day before); one lead created (Bia's;
    # the deleted one is left out; Ana's was created on the 1st) and one converted (Ana's, at 00:01).
    assert (clinic["date"], clinic["patient_messages_today"], clinic["new_leads_today"],
            clinic["conversions_today"], clinic["waiting_conversations"]) == ("2026-11-02", 3, 1, 1, 1)  # fmt: skip
    assert (ana["patient_messages_today"], ana["new_leads_today"], ana["conversions_today"]) == (3, 0, 1)
    # Manaus's 2 Nov starts at 01:00 in São Paulo: the 00:00 message and the 00:01 conversion fall on the 1st there;
    # the 1 Nov 23:59 lead (22:59 in Manaus) too; the 23:58 message is 22:58 on the 2nd.
    assert (manaus["patient_messages_today"], manaus["new_leads_today"], manaus["conversions_today"]) == (2, 1, 0)


def test_the_local_gateway_serves_the_stream_natively_and_every_other_function_through_wsgi(people):
    from local.gateway import build_asgi_gateway

    server, url = serve(build_asgi_gateway(threads=2))
    try:
        health = httpx.get(url + "/api/v1/health", timeout=10)
        unknown = httpx.get(url + "/nowhere", timeout=10)
        with opened(url, headers=people.admin_h) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            Sse(response.iter_lines()).read(count_of(live.KPI, 1))
    finally:
        server.should_exit = True

    assert health.status_code in (200, 503) and health.headers["x-api-version"] == "1"  # WAHA is away in tests
    assert unknown.status_code == 404 and unknown.json()["type"] == "urn:clinicbot:problem:not-found"
