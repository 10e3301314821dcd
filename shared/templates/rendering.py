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


_OPEN, _CLOSE = "{{", "}}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_CHARS = 40


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with the `{{...}}` placeholders of a template being saved (empty when nothing is)."""
    problems: list[str] = []
    position = 0
    while (start := text.find(_OPEN, position)) != -1:
        stray = text.find(_CLOSE, position, start)
        if stray != -1:
            problems.append(f"'}}}}' at position {stray} closes no placeholder")
        end = text.find(_CLOSE, start + 2)
        reopened = text.find(_OPEN, start + 2)
        if end == -1 or (reopened != -1 and reopened < end):
            problems.append(f"placeholder {text[start : start + 20]!r} at position {start} is not closed with '}}}}'")
            position = start + 2
            continue
        problems += _name_problems(text[start + 2 : end].strip(), text[start : end + 2], start)
        position = end + 2
    if text.find(_CLOSE, position) != -1:
        problems.append(f"'}}}}' at position {text.find(_CLOSE, position)} closes no placeholder")
    return problems


def _name_problems(name: str, placeholder: str, start: int) -> list[str]:
    if not name:
        return [f"empty placeholder {placeholder!r} at position {start}: write a variable name, as in {{{{nome}}}}"]
    if not _NAME.fullmatch(name):
        return [
            f"invalid variable name {name!r} at position {start}: use letters without accents, digits and "
            "underscores, not starting with a digit"
        ]
    if len(name) > MAX_NAME_CHARS:
        return [f"variable name {name[:MAX_NAME_CHARS]!r}... at position {start} is longer than {MAX_NAME_CHARS}"]
    return []


def fill_known(text: str, variables: Mapping[str, object]) -> str:
    """Fill the placeholders that have a value and leave the others as written, for a person to complete."""
    return _VARIABLE.sub(
        lambda match: str(variables[match.group(1)]) if variables.get(match.group(1)) is not None else match.group(0),
        text,
    )
