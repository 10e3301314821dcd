"""The offline provider: understands a patient's message with no LLM and no network.

`normalise` lives here, not in the classifier, because the classifier, `urgency` and `shared.assistant.consent`
all read messages the same way, and the classifier imports the other two.
"""

from __future__ import annotations

import re
import unicodedata

# Emojis that stand for a word; every other emoji is dropped.
_EMOJI_WORDS = {"👍": " ok ", "👌": " ok ", "👋": " oi "}
# Chat spellings, after lowercasing and accent stripping ("tô" is "to" by then).
# fmt: off
_ABBREVIATIONS = {
    "vc": "voce", "vcs": "voces", "oce": "voce", "ce": "voce",
    "qto": "quanto", "qnto": "quanto", "qnt": "quanto", "qt": "quanto", "qta": "quanta",
    "qtos": "quantos", "qntos": "quantos", "qtas": "quantas", "qntas": "quantas",
    "qdo": "quando", "qndo": "quando", "qnd": "quando",
    "tb": "tambem", "tbm": "tambem", "tmb": "tambem", "tbem": "tambem",
    "pq": "porque", "pk": "porque", "hj": "hoje", "amnh": "amanha", "amanh": "amanha",
    "q": "que", "oq": "o que", "qm": "quem", "ql": "qual", "td": "tudo", "tds": "todos",
    "blz": "beleza", "obg": "obrigado", "obgd": "obrigado", "obgdo": "obrigado", "obgda": "obrigada",
    "brigado": "obrigado", "brigada": "obrigada", "vlw": "valeu", "flw": "falou",
    "msg": "mensagem", "msgs": "mensagens", "mensg": "mensagem",
    "to": "estou", "tou": "estou", "tamo": "estamos", "ta": "esta", "tah": "esta", "tava": "estava",
    "pra": "para", "pro": "para o", "pras": "para as", "pros": "para os", "praq": "para que",
    "n": "nao", "naum": "nao", "nd": "nada", "cmg": "comigo", "ctg": "contigo",
    "mt": "muito", "mto": "muito", "mta": "muita", "mts": "muitos", "mtos": "muitos", "mtas": "muitas",
    "agr": "agora", "dps": "depois", "kd": "cade", "hr": "hora", "hrs": "horas", "fds": "fim de semana",
    "pf": "por favor", "pfv": "por favor", "pfvr": "por favor", "plz": "por favor",
    "msm": "mesmo", "vdd": "verdade", "ctz": "certeza", "aki": "aqui", "dnv": "de novo",
    "eh": "e", "neh": "ne", "qro": "quero", "qria": "queria", "end": "endereco", "orc": "orcamento",
    "sab": "sabado", "dom": "domingo", "seg": "segunda",
}
# fmt: on
_SLASH_WORDS = {"p": "para", "c": "com", "s": "sem", "q": "que"}

_LONG_RUN = re.compile(r"([a-z])\1{2,}")  # "oiiii", "caaaro", "bommm"
_WORD_END_DOUBLE = re.compile(r"([a-np-z])\1\b")  # "oii", "bomm", "noitee"; "oo" ends real words ("voo", "enjoo")
_SLASH = re.compile(r"(?<![a-z0-9])([pcsq])/")  # "p/ amanha", "c/ a doutora"
_WORD = re.compile(r"(?<![a-z0-9])[a-z]+(?![a-z0-9])")
_LAUGHTER = re.compile(r"(?<![a-z0-9])(k+|(rs)+|(ha)+h?|(he)+h?|(hu)+a?s*)(?![a-z0-9])")
_PUNCTUATION_RUN = re.compile(r"([.!?,;:])[.!?,;:]*")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.!?,;:])")


def normalise(text: str) -> str:
    """Lowercase, accents and emojis gone, stretched letters and chat abbreviations undone, one space between words."""
    for emoji, word in _EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(_keep_or_blank(char) for char in text if not unicodedata.combining(char))
    # A line break ends a sentence: urgency reads questions sentence by sentence.
    text = re.sub(r"(?<=[.!?])\s*\n\s*", " ", text.strip())
    text = re.sub(r"\s*\n\s*", ". ", text)
    text = _LONG_RUN.sub(lambda m: m.group(1) * (2 if m.group(1) in "rs" else 1), text)
    text = _WORD_END_DOUBLE.sub(r"\1", text)
    text = _SLASH.sub(lambda m: f" {_SLASH_WORDS[m.group(1)]} ", text)
    text = _LAUGHTER.sub(" ", text)
    text = _WORD.sub(lambda m: _ABBREVIATIONS.get(m.group(), m.group()), text)
    text = _PUNCTUATION_RUN.sub(r"\1", text)
    text = re.sub(r"[ \t]+", " ", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text).strip(" ,;:")


def _keep_or_blank(char: str) -> str:
    if char == "\n" or char.isalnum() or char in " .,!?;:$%/-'@":
        return char
    return " "
