"""GET /api/v1/health: 200 when Postgres and Redis answer, else 503; WAHA reported either way."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local.servers import free_port


class _FakeWaha(BaseHTTPRequestHandler):
    seen_keys: list[str | None] = []

    def do_GET(self):
        _FakeWaha.seen_keys.append(self.headers.get("X-Api-Key"))
        body = json.dumps({"message": "pong"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_healthy_backends_answer_200_and_report_waha_down(secretary_api):
    response = secretary_api.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json["db"]["ok"] and response.json["redis"]["ok"]
    assert response.json["waha"]["ok"] is False and "ConnectError" in response.json["waha"]["error"]
    assert response.json["status"] == "degraded"


def test_waha_is_asked_with_the_api_key(secretary_api, settings_env):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _FakeWaha)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings_env(WAHA_URL=f"http://127.0.0.1:{server.server_port}")
    settings_env(WAHA_API_KEY="waha-key-123")

    response = secretary_api.get("/api/v1/health")
    server.shutdown()

    assert response.status_code == 200 and response.json["status"] == "ok"
    assert _FakeWaha.seen_keys[-1] == "waha-key-123"


def test_redis_down_answers_503_naming_it(secretary_api, settings_env):
    settings_env(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    response = secretary_api.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json["db"]["ok"] is True
    assert response.json["redis"]["ok"] is False and response.json["redis"]["error"]


def test_postgres_down_answers_503_within_the_timeout(secretary_api, settings_env):
    settings_env(DATABASE_URL=f"postgresql+pg8000://postgres@127.0.0.1:{free_port()}/none")

    response = secretary_api.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json["db"]["ok"] is False and response.json["redis"]["ok"] is True
