"""Issue 3's acceptance on `clinicbot local`: a patient's message from the WAHA emulator, signed, stored,
handed through the Cloud Tasks emulator to the message processor; with Redis stopped it is still stored and
acknowledged, and the sweep gets it processed once Redis is back."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import create_engine, text

from local.servers import EmbeddedRedis, create_database, drop_database
from tests.conftest import scratch_dir
from tests.e2e.test_local_stack import CLINICBOT, RunningStack, _alive, _clean_environment

pytestmark = pytest.mark.e2e
PATIENT = "5511988887777@c.us"


def eventually(check: Callable[[], object], within: float = 30.0, what: str = "condition") -> object:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {within} s")


def test_a_message_travels_from_the_emulator_to_the_processor_and_survives_redis_down(backends):
    with ExitStack() as cleanup:
        name = f"clinicbot_e2e_{uuid.uuid4().hex[:10]}"
        database_url = create_database(backends.server_url, name)
        cleanup.callback(drop_database, backends.server_url, name)
        redis = EmbeddedRedis(scratch_dir(cleanup) / "redis", durable=False)  # ours, to stop and start again
        redis_url = redis.start()
        cleanup.callback(redis.stop)
        data_dir = scratch_dir(cleanup, prefix="clinicbot-e2e-") / "data"
        environment = _clean_environment(DATABASE_URL=database_url, REDIS_URL=redis_url,
                                         CLINICBOT_ADMIN_EMAIL="dona@example.com",
                                         CLINICBOT_ADMIN_PASSWORD="senha-da-dona-1")  # fmt: skip
        engine = create_engine(database_url)
        cleanup.callback(engine.dispose)

        def message(body: str):
            with engine.connect() as connection:
                return connection.execute(
                    # The latest of its tasks: the scheduler's sweep (the stack ticks every minute) re-runs a
                    # failed one under a new id once its cause is gone.
                    text("SELECT m.processing_note, t.status FROM conversation_messages m "
                         "LEFT JOIN task_records t ON t.payload->>'message_id' = m.id::text WHERE m.body = :body "
                         "ORDER BY t.created_at DESC NULLS LAST LIMIT 1"),
                    {"body": body},
                ).one_or_none()  # fmt: skip

        stack = RunningStack(data_dir, environment)
        try:
            stack.wait_healthy(within=90)
            assert "Cloud Tasks emulator" in stack.output()

            sent = httpx.post(f"{stack.waha}/_emulator/inbound", json={"from": PATIENT, "body": "Olá, bom dia"})
            assert sent.status_code in (200, 201), sent.text
            # The turn notes "replied" inside the task; its record turns COMPLETED only once the task has answered.
            assert eventually(lambda: message("Olá, bom dia") == ("replied", "COMPLETED"), what="turn replied, done")
            deliveries = httpx.get(f"{stack.waha}/_emulator/webhooks", params={"event": "message"}).json()
            assert [d["status_code"] for d in deliveries if d["event_id"] == sent.json()["event_id"]] == [200]

            redis.stop()
            sent = httpx.post(f"{stack.waha}/_emulator/inbound", json={"from": PATIENT, "body": "Ainda aí?"})
            eventually(lambda: message("Ainda aí?"), what="message stored with Redis down")
            deliveries = httpx.get(f"{stack.waha}/_emulator/webhooks", params={"event": "message"}).json()
            assert [d["status_code"] for d in deliveries if d["event_id"] == sent.json()["event_id"]] == [200]
            # The turn needs Redis (its lock): every attempt fails and the task ends in failed_tasks.
            assert eventually(lambda: message("Ainda aí?")[1] == "FAILED", what="task out of attempts")
            assert message("Ainda aí?")[0] is None

            redis.start()  # same port
            swept = subprocess.run([CLINICBOT, "--env-file", str(data_dir / "stack.env"), "sweep", "--older-than",
                                    "0"], capture_output=True, text=True, timeout=60, env=environment)  # fmt: skip
            assert swept.returncode == 0, swept.stderr
            # 0 when the stack's own tick re-ran the failed task first, since Redis answers again.
            assert re.search(r"\b[01] turn\(s\) enqueued", swept.stdout), swept.stdout
            assert eventually(lambda: message("Ainda aí?")[0] == "replied", what="swept turn replied")
        finally:
            leftovers = _alive(stack.interrupt())
        assert leftovers == [], leftovers
