"""Issue 4's acceptance on `clinicbot local`: patients write at the WAHA emulator, the assistant answers.

One stack on the offline provider walks the knowledge, lead, urgency, debounce, duplicate and clinic-phone
cases; a second one runs the Gemini provider against the Gemini emulator (--gemini-emulator).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from local.servers import create_database, drop_database, free_port
from shared.whatsapp.signature import sign_body
from tests.conftest import scratch_dir
from tests.e2e.test_local_stack import CLINICBOT, RunningStack, _alive, _clean_environment
from tests.e2e.test_whatsapp_flow import eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("dona@example.com", "senha-da-dona-1")
SECRETARY = ("ana@example.com", "senha-da-ana-1")


class Clinic:
    """A running stack seen from outside: the emulator's phone, the API, and the database for assertions."""

    def __init__(self, stack: RunningStack, database_url: str, data_dir: Path) -> None:
        self.stack, self.data_dir = stack, data_dir
        self.engine = create_engine(database_url)

    def say(self, chat: str, body: str, **extra) -> dict:
        sent = httpx.post(f"{self.stack.waha}/_emulator/inbound", json={"from": chat, "body": body} | extra)
        assert sent.status_code == 201, sent.text
        return sent.json()

    def replies(self, chat: str) -> list[str]:
        sent = httpx.get(f"{self.stack.waha}/_emulator/outbound", params={"chatId": chat}).json()
        return [m.get("text") or m.get("caption") or "" for m in sent if m.get("kind") != "reaction"]

    def wait_replies(self, chat: str, count: int, within: float = 30.0) -> list[str]:
        eventually(lambda: len(self.replies(chat)) >= count, within, what=f"{count} repl(ies) to {chat}")
        time.sleep(0.5)  # nothing more arrives after the expected ones
        return self.replies(chat)

    def row(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).one_or_none()

    def note_of(self, body: str) -> str | None:
        """How the turn dealt with the inbound message `body` (None until it is stored and dealt with)."""
        found = self.row("SELECT processing_note FROM conversation_messages WHERE body = :body", body=body)
        return found[0] if found else None

    def clinicbot(self, *args: str) -> str:
        done = subprocess.run(
            [CLINICBOT, "--env-file", str(self.data_dir / "stack.env"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def close(self) -> None:
        self.engine.dispose()


def start_clinic(cleanup: ExitStack, backends, *extra_args: str, **environment: str) -> Clinic:
    name = f"clinicbot_e2e_{uuid.uuid4().hex[:10]}"
    database_url = create_database(backends.server_url, name)
    cleanup.callback(drop_database, backends.server_url, name)
    data_dir = scratch_dir(cleanup, prefix="clinicbot-e2e-") / "data"
    env = _clean_environment(
        DATABASE_URL=database_url,
        REDIS_URL=backends.redis_url,
        REDIS_NAMESPACE=f"e2e-{uuid.uuid4().hex[:8]}",
        CLINICBOT_ADMIN_EMAIL=ADMIN[0],
        CLINICBOT_ADMIN_PASSWORD=ADMIN[1],
        TYPING_SECONDS_PER_CHAR="0",
        **environment,
    )
    env.pop("GOOGLE_API_KEY", None)
    stack = RunningStack(data_dir, env, *extra_args)
    cleanup.callback(lambda: _alive(stack.interrupt()))
    stack.wait_healthy(within=120)
    clinic = Clinic(stack, database_url, data_dir)
    cleanup.callback(clinic.close)
    return clinic


def add_secretary(clinic: Clinic) -> str:
    base = clinic.stack.base
    token = httpx.post(f"{base}/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    created = httpx.post(
        f"{base}/users",
        headers={"Authorization": f"Bearer {token}"},
        json={"email": SECRETARY[0], "full_name": "Ana Recepção", "password": SECRETARY[1], "role": "USER"},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_the_assistant_on_the_offline_provider(backends):
    with ExitStack() as cleanup:
        clinic = start_clinic(cleanup, backends, DEBOUNCE_SECONDS="3")
        secretary = add_secretary(clinic)
        sample = "Rua Haddock Lobo"  # from local/sample_kb.yaml, loaded by the stack at its first start
        assert "Bella Pele" in clinic.stack.output()

        clinic.say("5511900000001@c.us", "oi, qual o endereço de vocês?")
        assert sample in clinic.wait_replies("5511900000001@c.us", 1)[0]
        clinic.say("5511900000002@c.us", "quanto custa a limpeza de pele?")
        assert "R$ 180,00" in clinic.wait_replies("5511900000002@c.us", 1)[0]

        clinic.clinicbot("kb", "import", str(ROOT / "tests/data/other_clinic_kb.yaml"))
        clinic.say("5511900000003@c.us", "oi, qual o endereço de vocês?")
        other_address = clinic.wait_replies("5511900000003@c.us", 1)[0]
        assert sample not in other_address and "Belo Horizonte" in other_address
        clinic.say("5511900000004@c.us", "quanto custa a limpeza de pele?")
        assert "R$ 145,50" in clinic.wait_replies("5511900000004@c.us", 1)[0]

        clinic.say("5511900000005@c.us", "quero marcar uma consulta pra semana que vem")
        assert len(clinic.wait_replies("5511900000005@c.us", 1)) == 1
        lead = clinic.row(
            "SELECT l.assigned_to_user_id::text, c.status::text, (SELECT count(*) FROM notifications n "
            "WHERE n.lead_id = l.id AND n.user_id = l.assigned_to_user_id) FROM leads l JOIN conversations c "
            "ON c.id = l.conversation_id WHERE c.chat_id = '5511900000005@c.us'"
        )
        assert lead == (secretary, "WAITING_SECRETARY", 1)

        clinic.say("5511900000006@c.us", "estou com muita dor e sangrando desde ontem")
        clinic.wait_replies("5511900000006@c.us", 1)
        urgent = clinic.row(
            "SELECT c.is_urgent, (SELECT count(*) FROM notifications n WHERE n.conversation_id = c.id "
            "AND n.priority = 'HIGH' AND n.type = 'URGENT') FROM conversations c "
            "WHERE c.chat_id = '5511900000006@c.us'"
        )
        assert urgent == (True, 1)

        for body in ("oi", "boa tarde", "vocês abrem sábado?"):  # within two seconds, debounce 3 s
            clinic.say("5511900000007@c.us", body)
        assert len(clinic.wait_replies("5511900000007@c.us", 1, within=30)) == 1
        time.sleep(4)
        assert len(clinic.replies("5511900000007@c.us")) == 1

        _deliver_same_webhook_five_times(clinic, "5511900000008@c.us")
        assert len(clinic.wait_replies("5511900000008@c.us", 1)) == 1
        time.sleep(4)
        assert len(clinic.replies("5511900000008@c.us")) == 1

        clinic.say("5511900000009@c.us", "Oi! Aqui é a Ana, da clínica. Posso ajudar?", fromMe=True, source="app")
        eventually(
            lambda: clinic.row("SELECT human_takeover_at FROM conversations WHERE chat_id = '5511900000009@c.us'"),
            what="the takeover stored",
        )
        clinic.say("5511900000009@c.us", "quanto custa o botox?")
        eventually(
            lambda: clinic.note_of("quanto custa o botox?") == "human_takeover",
            what="silent turn",
        )
        assert clinic.replies("5511900000009@c.us") == []

        _secretary_takes_over_through_the_api_and_hands_back(clinic, "5511900000010@c.us")


def _secretary_takes_over_through_the_api_and_hands_back(clinic: Clinic, chat: str) -> None:
    """Issue 5: a reply from the API reaches WhatsApp once; the bot is silent until resume-bot."""
    base = clinic.stack.base
    login = httpx.post(f"{base}/auth/login", json={"email": SECRETARY[0], "password": SECRETARY[1]})
    ana = {"Authorization": f"Bearer {login.json()['access_token']}"}
    clinic.say(chat, "oi, vocês atendem sábado?")
    bot_first = clinic.wait_replies(chat, 1)
    conversation = clinic.row("SELECT id::text FROM conversations WHERE chat_id = :chat", chat=chat)[0]
    assert httpx.post(f"{base}/conversations/{conversation}/claim", headers=ana).status_code == 200

    reply = {"text": "Oi! Aqui é a Ana, da recepção. Sábado atendemos até as 13h."}
    keyed = {**ana, "Idempotency-Key": f"e2e-{conversation}"}
    for _ in range(2):  # a retried request sends nothing more
        sent = httpx.post(f"{base}/conversations/{conversation}/messages", json=reply, headers=keyed)
        assert sent.status_code == 201, sent.text
    assert clinic.wait_replies(chat, 2) == [*bot_first, reply["text"]]

    clinic.say(chat, "ótimo, e quanto custa o botox?")
    eventually(lambda: clinic.note_of("ótimo, e quanto custa o botox?") == "human_takeover", what="silent turn")
    assert clinic.replies(chat) == [*bot_first, reply["text"]]

    assert httpx.post(f"{base}/conversations/{conversation}/resume-bot", headers=ana).status_code == 200
    clinic.say(chat, "e qual o endereço?")
    assert "Belo Horizonte" in clinic.wait_replies(chat, 3)[-1]  # the second clinic's knowledge, imported above


def _deliver_same_webhook_five_times(clinic: Clinic, chat: str) -> None:
    """WAHA retrying one delivery: the same signed body five times."""
    key = (clinic.data_dir / "waha-webhook-hmac-key").read_text().strip()
    payload = {
        "id": f"false_{chat}_{uuid.uuid4().hex[:20].upper()}",
        "timestamp": int(time.time()),
        "from": chat,
        "fromMe": False,
        "to": "5511900000000@c.us",
        "body": "qual o horário de vocês?",
        "hasMedia": False,
    }
    body = json.dumps({"event": "message", "session": "default", "payload": payload}).encode()
    for _ in range(5):
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Hmac": sign_body(body, key),
            "X-Webhook-Timestamp": str(int(time.time() * 1000)),
        }
        answer = httpx.post(f"{clinic.stack.base}/webhooks/waha", content=body, headers=headers)
        assert answer.status_code == 200, answer.text


def test_the_assistant_on_gemini_through_the_gemini_emulator(backends):
    with ExitStack() as cleanup:
        port = free_port()
        clinic = start_clinic(
            cleanup,
            backends,
            "--gemini-emulator",
            "--gemini-emulator-port",
            str(port),
            DEBOUNCE_SECONDS="0",
            GEMINI_TIMEOUT_SECONDS="1",
        )
        add_secretary(clinic)
        gemini = f"http://127.0.0.1:{port}"
        answer = {
            "reply": "Oi, Joana! Já peço para a equipe marcar. 😊",
            "template": None,
            "intent": "schedule",
            "confidence": 0.9,
            "is_urgent": False,
            "urgency_reason": None,
            "maturity": {"score": 85, "engagement": "alto", "interest_clarity": "alta", "objections": []},
            "facts": {"name": "Joana", "symptoms": [], "concerns": [], "preferences": ["terça à tarde"]},
            "handoff": True,
            "handoff_reason": "agendar",
        }
        httpx.post(f"{gemini}/_emulator/script", json={"steps": [{"json": answer}]}).raise_for_status()
        clinic.say("5511900000011@c.us", "sou a Joana, queria marcar na terça à tarde")
        assert clinic.wait_replies("5511900000011@c.us", 1) == [answer["reply"]]
        assert clinic.row("SELECT name, maturity_score FROM leads") == ("Joana", 85)

        steps = [{"status": 429, "message": "quota"}, {"json": answer | {"intent": "price", "handoff": False}}]
        httpx.post(f"{gemini}/_emulator/script", json={"steps": steps}).raise_for_status()
        clinic.say("5511900000012@c.us", "quanto custa?")
        assert clinic.wait_replies("5511900000012@c.us", 1) == [answer["reply"]]

        steps = [{"delay": 3} for _ in range(3)]
        httpx.post(f"{gemini}/_emulator/script", json={"steps": steps}).raise_for_status()
        clinic.say("5511900000013@c.us", "vocês atendem sábado?")
        [fallback] = clinic.wait_replies("5511900000013@c.us", 1)
        assert fallback.startswith("Desculpe")
        status = clinic.row("SELECT status::text FROM conversations WHERE chat_id = '5511900000013@c.us'")
        assert status == ("WAITING_SECRETARY",)
