"""Whether a patient's message reports something that cannot wait: pain, bleeding, swelling, fever, trauma,
trouble breathing, an allergic reaction, or an emergency in their own words.

Rules, not the embedding model: a missed emergency costs far more than a wrong intent, and a rule can say why
it fired. The hard part is what is not urgent: "não estou com dor", "sem dor", and questions about a procedure
("dói?", "é normal ficar inchado?") use the same words as a patient in pain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.assistant.offline import normalise

_INTENSE = r"(forte|fortes|intensa|intensas|insuportavel|horrivel|terrivel|absurda|latejante|demais|muito forte)"
_BODY = r"(dentes?|boca|rosto|cara|labios?|nariz|cabeca|gengiva|olhos?|queixo|mandibula|sangr\w*|machuc\w*|mole)"
_IMPACT = r"(cai|caiu|caimos|tombo|bati|bateu|pancada|bolada|soco|quebrei|quebrou|lasquei|lascou|trincou|trinquei)"


@dataclass(frozen=True)
class _Sign:
    reason: str
    pattern: re.Pattern[str]
    # Whether the sign still counts in a question: "estou com dor, é normal?" does, "o canal dá muita dor?" not.
    in_questions: bool


def _sign(reason: str, *alternatives: str, in_questions: bool = True) -> _Sign:
    return _Sign(reason, re.compile(r"\b(?:" + "|".join(alternatives) + r")"), in_questions)


# Over normalised text.
# fmt: off
_SIGNS = [
    _sign("dor intensa", r"morrendo de dor|latej\w*|nao (consegui|consigo) dormir (de|com) dor|chei[oa] de dor",
          r"nao aguento (mais )?(de )?dor|dor (que )?nao passa\b"),
    _sign("dor intensa", r"(estou|estava|acordei|fiquei) com (muita|bastante) dor|doendo (muito|demais|bastante)"),
    _sign("dor intensa", rf"dor(es)?\b[\w ]{{0,20}}\b{_INTENSE}|muita dor\b", in_questions=False),
    _sign("dor intensa", r"(doi|doeu|dor) (muito|demais|bastante)\b", in_questions=False),
    _sign("dor", r"(estou|estava|ando|fiquei|acordei|continuo|sigo) com (uma |muita |bastante )?(dor|dores)\b",
          r"(sentindo|sinto) (muita |bastante )?(dor|dores)\b|doendo\b"),
    _sign("dor", r"dor (de dente|no dente|na gengiva|no siso|de cabeca)\b", in_questions=False),
    _sign("sangramento", r"sangrando\b|sangrou\b|nao (para|parou|esta parando) de sangrar|saindo (muito )?sangue"),
    _sign("sangramento", r"muito sangue\b|sangramento\b|sangra (muito|demais)", in_questions=False),
    _sign("inchaço", r"inchou\b|inchando\b|(esta|estou|fiquei|ficou|acordei|continua|todo|toda|muito) inchad[oa]s?"),
    _sign("inchaço", r"inchad[oa]s?\b|inchaco\b", in_questions=False),
    _sign("febre", r"(estou|estava|fiquei|acordei|ando|com) (com )?febre\b|febre alta\b"),
    _sign("febre", r"febre\b", in_questions=False),
    _sign("trauma", rf"{_IMPACT}\b.{{0,40}}\b{_BODY}|{_BODY}\b.{{0,25}}\b{_IMPACT}\b|acidente\b"),
    _sign("dificuldade para respirar", r"falta de ar|garganta fechando|sufocando",
          r"(nao consigo|dificuldade (para|de)|dificil|sem conseguir) respirar"),
    _sign("reação alérgica", r"(tive|estou com|deu|dando|fiz) (uma )?(reacao alergica|alergia)"),
    _sign("reação alérgica", r"reacao alergica\b", in_questions=False),
    _sign("sinais de infecção", r"(saindo|com) pus\b|infeccion(ou|ado|ada)\b", in_questions=False),
    _sign("pedido de urgência", r"(urgente|urgencia|emergencia|socorro)\b"),
]
# Most serious first, so that the reason leads with what a secretary must see.
_SEVERITY = [
    "dificuldade para respirar", "reação alérgica", "sangramento", "dor intensa", "dor", "inchaço", "febre",
    "trauma", "sinais de infecção", "pedido de urgência",
]
# fmt: on
# A sign this close after a negation is a denial: "não estou com dor", "sem sangramento", "nem inchou".
_NEGATION_BEFORE = re.compile(r"\b(nao|sem|nem|nunca|nenhuma?)\b[\w ]{0,12}$")
# ...or this close before words that say it is over or mild: "o inchaço já diminuiu", "doendo um pouco".
_OVER_OR_MILD_AFTER = re.compile(
    r"^[\w ]{0,12}\b(passou|diminuiu|melhorou|sumiu|parou|desinchou|ja foi)\b|^ (um )?pouc(o|quinho)\b|^ (de )?leve"
)
# Asking whether the clinic treats emergencies is not having one.
_ASKING_ABOUT_SERVICE = re.compile(
    r"\b(tem|fazem|faz|atendem|atende|atendimento|plantao)( de| a| para)? (atendimento )?(de |a |para )?"
    r"(urgencia|emergencia)"
)
_QUESTION_OPENING = re.compile(r"^(e normal|sera que|quanto|quantos|quantas|como|qual|o que|vai|doi)\b")
# Words that put the sign on the patient, now: then even a question ("meu lábio inchou, é normal?") counts.
_HAPPENING = re.compile(r"\b(meu|minha|meus|minhas|estou|esta|estao|fiquei|ficou|agora|hoje|ontem|acordei|ainda)\b")
_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")


def detect_urgency(text: str) -> tuple[bool, str | None]:
    """(True, a short pt-BR reason such as "sangramento e dor intensa") when the message cannot wait."""
    found = {reason for sentence in _SENTENCE.findall(normalise(text)) for reason in _reasons_in(sentence.strip())}
    if "dor intensa" in found:
        found.discard("dor")
    if not found:
        return False, None
    return True, _join([reason for reason in _SEVERITY if reason in found])


def _reasons_in(sentence: str) -> list[str]:
    asked = sentence.endswith("?") or bool(_QUESTION_OPENING.match(sentence))
    is_question = asked and not _HAPPENING.search(sentence)
    return [
        sign.reason
        for sign in _SIGNS
        if (sign.in_questions or not is_question)
        and any(_is_affirmed(sentence, match) for match in sign.pattern.finditer(sentence))
    ]


def _is_affirmed(sentence: str, match: re.Match[str]) -> bool:
    before, after = sentence[: match.start()], sentence[match.end() :]
    if _NEGATION_BEFORE.search(before) or _OVER_OR_MILD_AFTER.search(after):
        return False
    return not _ASKING_ABOUT_SERVICE.search(sentence[max(0, match.start() - 40) : match.end()])


def _join(reasons: list[str]) -> str:
    return reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " e " + reasons[-1]
