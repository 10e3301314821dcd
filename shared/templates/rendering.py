"""`{{variable}}` substitution for scripted messages and prompts (cards 086, 121)."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class MissingVariables(ValueError):
    """A template names variables that were not given."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"missing template variable(s): {', '.join(names)}")
        self.names = names


def variables_in(text: str) -> list[str]:
    """The variables a template uses, in order of first appearance."""
    return list(dict.fromkeys(_VARIABLE.findall(text)))


def render(text: str, variables: Mapping[str, object], *, strict: bool = True) -> str:
    """Fill `{{name}}` placeholders; strict: a missing one raises, else it becomes empty text."""
    missing = [name for name in variables_in(text) if variables.get(name) is None]
    if missing and strict:
        raise MissingVariables(missing)
    return _VARIABLE.sub(lambda match: str(variables.get(match.group(1)) or ""), text)
