"""The whole public URL space in one test client: the local gateway, which routes by shared/routing.py as the
production ingress does (the walks cover every function's routes, not only the secretary API's)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from local.gateway import build_gateway


@pytest.fixture(scope="session")
def gateway(backends):
    return Client(build_gateway(), Response)
