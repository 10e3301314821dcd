"""Task targets accept only our queue: Google's OIDC token in production, the shared secret elsewhere.

The OIDC tests run google-auth's real verification against keys served by a fake transport (no network)."""

import json
import time
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

from shared.config import Settings
from shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from shared.tasks.auth import GoogleTokenVerifier, authenticate_task, task_auth_mode

SERVICE_ACCOUNT = "tasks@clinicbot.iam.gserviceaccount.com"
URL = "https://tasks.example.com/tasks/message_processor"


def settings(**values) -> Settings:
    return Settings(database_url="postgresql+pg8000://u@127.0.0.1/x", redis_url="redis://127.0.0.1/0", **values)


def production(**values) -> Settings:
    return settings(environment="production", task_queue_backend="cloudtasks",
                    task_target_base_url="https://tasks.example.com", task_service_account_email=SERVICE_ACCOUNT,
                    **values)  # fmt: skip


@pytest.mark.parametrize(
    ("values", "mode"),
    [({"environment": "production", "task_queue_backend": "cloudtasks"}, "oidc"),
     ({"environment": "production", "task_queue_backend": "cloudtasks", "cloud_tasks_emulator_host": "h:1"}, "secret"),
     ({"environment": "production", "task_queue_backend": "inprocess"}, "secret"),
     ({"environment": "local", "task_queue_backend": "cloudtasks"}, "secret")],
)  # fmt: skip
def test_oidc_only_where_real_cloud_tasks_delivers(values, mode):
    assert task_auth_mode(settings(**values)) == mode


def test_the_shared_secret_must_match():
    configured = settings(environment="local", task_auth_secret="s3cret-for-tasks")

    authenticate_task({"X-Clinicbot-Task-Secret": "s3cret-for-tasks"}, "x", configured)
    for headers in ({}, {"X-Clinicbot-Task-Secret": "wrong"}, {"X-Clinicbot-Task-Secret": ""}):
        with pytest.raises(Unauthorized):
            authenticate_task(headers, "x", configured)


def test_without_a_secret_only_local_mode_lets_tasks_in():
    authenticate_task({}, "x", settings(environment="local"))
    with pytest.raises(Unauthorized, match="TASK_AUTH_SECRET"):
        authenticate_task({}, "x", settings(environment="production"))


@dataclass
class Answer:  # google.auth.transport.Response
    status: int
    data: bytes
    headers: dict = field(default_factory=dict)


class GoogleCerts:
    """Serves one key as Google's certificate endpoint does, speaking google.auth.transport.Request."""

    def __init__(self, status: int = 200) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
        self.certs = {"key-1": public.decode()}
        self.status = status
        self.requests: list[str] = []

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        self.requests.append(url)
        return Answer(self.status, json.dumps(self.certs).encode(), {"Cache-Control": "public, max-age=600"})

    def token(self, **claims) -> str:
        private = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()  # fmt: skip
        now = int(time.time())
        claims = {"iss": "https://accounts.google.com", "aud": URL, "email": SERVICE_ACCOUNT, "email_verified": True,
                  "sub": "1234", "iat": now, "exp": now + 300} | claims  # fmt: skip
        return jwt.encode(crypt.RSASigner.from_string(private, "key-1"), claims).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_of_our_service_account_for_this_target_is_accepted_and_keys_are_fetched_once():
    google = GoogleCerts()
    verifier = GoogleTokenVerifier(google)

    authenticate_task(bearer(google.token()), "message_processor", production(), verifier)
    authenticate_task(bearer(google.token()), "message_processor", production(), verifier)

    assert len(google.requests) == 1


def test_the_configured_audience_replaces_the_url():
    google = GoogleCerts()
    configured = production(task_oidc_audience="clinicbot-tasks")

    authenticate_task(bearer(google.token(aud="clinicbot-tasks")), "message_processor", configured,
                      GoogleTokenVerifier(google))  # fmt: skip
    with pytest.raises(Unauthorized):
        authenticate_task(bearer(google.token()), "message_processor", configured, GoogleTokenVerifier(google))


@pytest.mark.parametrize(
    "claims",
    [{"aud": "https://tasks.example.com/tasks/other"}, {"exp": int(time.time()) - 120},
     {"iss": "https://evil.example.com"}],
)  # fmt: skip
def test_a_token_for_another_audience_expired_or_not_from_google_is_refused(claims):
    google = GoogleCerts()

    with pytest.raises(Unauthorized):
        authenticate_task(
            bearer(google.token(**claims)), "message_processor", production(), GoogleTokenVerifier(google)
        )


def test_a_token_signed_by_another_key_is_refused():
    google, impostor = GoogleCerts(), GoogleCerts()

    with pytest.raises(Unauthorized):
        authenticate_task(bearer(impostor.token()), "message_processor", production(), GoogleTokenVerifier(google))


@pytest.mark.parametrize("claims", [{"email": "someone@example.com"}, {"email_verified": False}])
def test_a_valid_token_of_another_account_is_forbidden(claims):
    google = GoogleCerts()

    with pytest.raises(Forbidden):
        authenticate_task(
            bearer(google.token(**claims)), "message_processor", production(), GoogleTokenVerifier(google)
        )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                                     {"X-Clinicbot-Task-Secret": "s3cret"}])  # fmt: skip
def test_no_bearer_token_is_unauthorized_in_production(headers):
    with pytest.raises(Unauthorized):
        authenticate_task(headers, "message_processor", production(task_auth_secret="s3cret-is-long-enough"),
                          GoogleTokenVerifier(GoogleCerts()))  # fmt: skip


def test_when_google_keys_cannot_be_fetched_the_queue_is_told_to_retry():
    google = GoogleCerts(status=500)

    with pytest.raises(ServiceUnavailable):
        authenticate_task(bearer(google.token()), "message_processor", production(), GoogleTokenVerifier(google))
