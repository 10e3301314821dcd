"""Settings: required ones named when missing, placeholders refused outside local mode."""

import pytest

from shared.config import Settings, get_settings
from shared.errors import ConfigurationError

BASE = {"database_url": "postgresql+pg8000://u@h/d", "redis_url": "redis://h:6379/0"}


def make(**values) -> Settings:
    return Settings(_env_file=None, **(BASE | values))


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch, tmp_path):
    """No setting from the process environment (other tests set some) and no .env file."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_missing_required_settings_are_named(bare_environment):
    with pytest.raises(ConfigurationError) as error:
        get_settings()
    assert "DATABASE_URL" in str(error.value) and "REDIS_URL" in str(error.value)


def test_a_malformed_setting_is_named(bare_environment):
    bare_environment.setenv("DATABASE_URL", "mysql://u@h/d")
    bare_environment.setenv("REDIS_URL", "redis://h")
    bare_environment.setenv("CLINIC_TIMEZONE", "Mars/Olympus")

    with pytest.raises(ConfigurationError) as error:
        get_settings()
    assert "DATABASE_URL" in str(error.value) and "CLINIC_TIMEZONE" in str(error.value)
    assert "REDIS_URL" not in str(error.value)


def test_placeholder_secrets_are_refused_in_production_only():
    with pytest.raises(ValueError, match="JWT_SECRET_KEY"):
        make(environment="production", jwt_secret_key="change-me")
    with pytest.raises(ValueError, match="WAHA_API_KEY"):
        make(environment="production", jwt_secret_key="k" * 40, waha_api_key="your-key-here")
    with pytest.raises(ValueError, match="at least 32"):
        make(environment="production", jwt_secret_key="short-but-not-a-placeholder")
    assert make(environment="local", jwt_secret_key="change-me").jwt_secret_key.get_secret_value() == "change-me"


def test_defaults_follow_the_issue():
    settings = make()
    assert settings.environment == "production"
    assert settings.gemini_model == "gemini-2.5-flash"
    assert settings.clinic_timezone == "America/Sao_Paulo"
    assert (settings.redis_cache_ttl, settings.redis_max_connections) == (3600, 10)


def test_several_gemini_keys_are_split_and_trimmed():
    assert make(google_api_key=" k1 , k2,,k3 ").google_api_keys == ["k1", "k2", "k3"]
    assert make().google_api_keys == []


def test_require_names_what_a_function_lacks():
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY, WAHA_WEBHOOK_URL"):
        make().require("jwt_secret_key", "waha_webhook_url")


def test_empty_values_mean_unset(bare_environment):
    bare_environment.setenv("DATABASE_URL", "postgresql+pg8000://u@h/d")
    bare_environment.setenv("REDIS_URL", "redis://h")
    bare_environment.setenv("JWT_SECRET_KEY", "k" * 40)
    bare_environment.setenv("GOOGLE_API_KEY", "")
    bare_environment.setenv("WAHA_WEBHOOK_HMAC_KEY", "")

    settings = get_settings()

    assert settings.google_api_key is None and settings.waha_webhook_hmac_key is None
