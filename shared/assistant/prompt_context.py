"""The turn's prompt filled in: the persona as system instruction, the facts of this turn as contents."""

from __future__ import annotations

import json

from shared.assistant.prompts import Prompt
from shared.assistant.providers import TurnRequest

NOTHING = "(nada)"
WHO = {"PATIENT": "Paciente", "BOT": "Assistente", "SECRETARY": "Secretária"}


def render_turn_prompt(prompt: Prompt, request: TurnRequest) -> tuple[str, str]:
    """(system instruction, contents) for one turn."""
    system = prompt.render_system(clinica=request.clinic_name)
    contents = prompt.render_context(
        conhecimento=_bullets(request.knowledge),
        mensagens_prontas=_bullets(f"{t.name} ({t.kind}): {t.body or ''}".strip() for t in request.templates),
        fatos=json.dumps(request.facts, ensure_ascii=False) if request.facts else NOTHING,
        memoria=_bullets(request.memory),
        historico="\n".join(f"{WHO.get(who, who)}: {text}" for who, text in request.history) or NOTHING,
        novas="\n".join(f"Paciente: {text}" for text in request.new_messages) or NOTHING,
    )
    return system, contents


def _bullets(lines) -> str:
    text = "\n".join(f"- {line}" for line in lines if line)
    return text or NOTHING
