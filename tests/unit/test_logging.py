import logging

from shared.logging import JsonFormatter, request_id_var


def _format(formatter: JsonFormatter, message: str, **extra) -> str:
    record = logging.makeLogRecord({"name": "t", "levelname": "INFO", "msg": message, **extra})
    return formatter.format(record)


def test_configured_secrets_and_bearer_tokens_never_reach_the_log():
    formatter = JsonFormatter(secrets=["super-secret-jwt-key"])
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

    line = _format(formatter, "key super-secret-jwt-key header Authorization: Bearer abc.def", token=token)

    assert "super-secret-jwt-key" not in line and "abc.def" not in line and token not in line
    assert '"level": "INFO"' in line


def test_the_request_id_is_attached():
    reset = request_id_var.set("req-42")
    try:
        assert '"request_id": "req-42"' in _format(JsonFormatter(secrets=[]), "hello")
    finally:
        request_id_var.reset(reset)
