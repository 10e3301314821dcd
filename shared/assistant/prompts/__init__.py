"""Versioned prompts (cards 079-081, 094, 095).

A prompt is a pair of Markdown files, `<name>-<version>.md` (the persona and the instructions, sent as the
system instruction) and `<name>-<version>.context.md` (the turn's facts). The version logged with every model
call is `<name>-<version>+<hash>`: the hash of both files, so an edit without a new version still shows.
Change a prompt by adding a new version and pointing TURN_PROMPT at it; keep the old files for the record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.templates.rendering import render

PROMPTS_DIR = Path(__file__).parent
TURN_PROMPT = "turn-v2"


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    context: str

    def render_system(self, **variables: object) -> str:
        return render(self.system, variables)

    def render_context(self, **variables: object) -> str:
        return render(self.context, variables)


@cache
def load_prompt(name: str = TURN_PROMPT) -> Prompt:
    """The prompt `name` with its logged version."""
    system = (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
    context = (PROMPTS_DIR / f"{name}.context.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((system + "\0" + context).encode()).hexdigest()[:8]
    return Prompt(name, f"{name}+{digest}", system, context)
