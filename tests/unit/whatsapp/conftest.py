"""Fixtures for WAHA tests: the spec (`waha_spec`, once per session), a fake WAHA and a WahaClient bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shared.whatsapp.client import WahaClient
from tests.unit.whatsapp.fake_waha import API_KEY, BASE_URL, FakeWaha
from tests.unit.whatsapp.waha_spec import SPEC_PATH, WahaSpec, load_waha_spec


@pytest.fixture(scope="session")
def waha_spec() -> WahaSpec:
    """WAHA's repaired spec: `validate_request(method, url, headers, body)` -> operationId, `validate(request)`,
    `check_schema(name, instance)`, `check_response(operation_id, status, body)`; SpecViolation on a mismatch."""
    if not SPEC_PATH.exists():
        pytest.skip(f"WAHA's spec is not at {SPEC_PATH}")
    return load_waha_spec()


@pytest.fixture
def fake(waha_spec: WahaSpec) -> FakeWaha:
    return FakeWaha(waha_spec)


@pytest.fixture
def client(fake: FakeWaha) -> Iterator[WahaClient]:
    with WahaClient(BASE_URL, API_KEY, transport=httpx.MockTransport(fake.handle), sleep=fake.sleeps.append) as waha:
        yield waha
