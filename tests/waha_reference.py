"""Where WAHA's reference material is: the team's `shared/waha/` (WAHA 2026.7.1's OpenAPI spec and webhook
payloads a real WAHA sent). It lives beside the repository and is never committed into it, so a checkout
elsewhere (a CI clone in a scratch folder) looks in WAHA_REFERENCE_DIR, then beside itself, then in the team's
workspace."""

from __future__ import annotations

import os
from pathlib import Path

from shared.migrate import PROJECT_ROOT


def _find() -> Path:
    candidates = [os.environ.get("WAHA_REFERENCE_DIR"), PROJECT_ROOT.parent / "shared" / "waha", "/work/shared/waha"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "openapi.json").is_file():
            return Path(candidate)
    return PROJECT_ROOT.parent / "shared" / "waha"


WAHA_REFERENCE = _find()
SPEC_PATH = WAHA_REFERENCE / "openapi.json"
PAYLOADS = WAHA_REFERENCE / "payloads"
