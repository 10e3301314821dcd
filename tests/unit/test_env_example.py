"""`.env.example` documents every setting, and nothing that is not one."""

import re

from shared.config import Settings
from shared.migrate import PROJECT_ROOT


def test_every_setting_is_documented_exactly_once():
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", (PROJECT_ROOT / ".env.example").read_text(), re.MULTILINE)
    assert sorted(names) == sorted(name.upper() for name in Settings.model_fields)
