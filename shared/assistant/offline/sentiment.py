"""The patient's sentiment without an LLM: a pt-BR lexicon with negation, intensity, contrast and emojis.

Each term found in the normalised message has a valence (-3..3). A negation shortly before it, in the same
clause, flips and damps it ("não gostei", "nada bom", "nada a reclamar"), or cancels it when it names distress
("sem dor" is no complaint); an intensifier strengthens it ("muito chateada", "gostei demais"), a softener
weakens it ("um pouco caro"). After "mas" a clause weighs more than before it. Negative terms weigh a little
more than positive ones: complaints come wrapped in courtesy, and sarcasm praises what it blames. Emojis add
their own valence; exclamation marks and shouting amplify what was said. Thanks in a message that asks
something are courtesy, and greetings ("bom dia", "tudo bem?") count for nothing.

The sum maps to -1..1 as x / sqrt(x² + 4); beyond ±0.2 the message is positive or negative
(the bands of shared/assistant/schemas.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shared.assistant.models import Sentiment
from shared.assistant.offline import normalise
from shared.assistant.schemas import SENTIMENT_BAND

PLAIN, DISTRESS, FIXED, THANKS = "plain", "distress", "fixed", "thanks"
# fmt: off
# (valence, kind, alternatives) over normalised text (lower case, no accents, chat spellings undone).
# FIXED phrases carry their own negation ("ninguém responde") or none at all (greetings, valence 0).
_LEXICON = [
    (0.0, FIXED, r"bom dia|boa tarde|boa noite|boa madrugada|bom (fim|final) de semana|boa semana|bem vind[oa]s?"
                 r"|tudo (bem|bom|certo|joia|tranquilo|ok|em paz|beleza)|(tenha|tenham) (um|uma) (bom|boa|otim[oa])"
                 r"|por favor|se deus quiser|qual (e )?(o |a )?(melhor|pior)|o melhor (horario|dia|jeito|preco)"
                 r"|boa parte|de boa( noite)?|bem (perto|longe|cedo|tarde|no|na)"),
    # praise, joy, relief
    (3.0, PLAIN, r"maravilh\w*|excelente|incrive(l|is)|fantastic[oa]s?|sensaciona(l|is)|espetacular|impecave(l|is)"
                 r"|excepciona(l|is)|adorei|adoro|adoramos|adorando|amei|amo|amamos|amando|encantad[oa]s?"
                 r"|encantador[a]?"
                 r"|apaixonad[oa]s?|perfeit[oa]s?|perfeicao|esplendid[oa]s?|divin[oa]s?|arras(am|ando|aram|ou|a)"),
    (3.0, FIXED, r"nota (10|dez|mil)|(sao|e|foi|foram|ficou) demais|(o|a) melhor|melhor (clinica|atendimento|lugar"
                 r"|dentista|doutora?|medic[oa]|equipe|experiencia|decisao)|melhor impossivel|sem palavras"
                 r"|super(ou|aram) (\w+ )?expectativas?|acima (d[ao]s? )?(\w+ )?expectativas?|valeu cada centavo"
                 r"|melhor do que (eu )?(esperava|imaginava|pensava)"),
    (2.5, PLAIN, r"otim[oa]s?|satisfeit[oa]s?|feliz(es)?|felicidade|parabens|lind[oa]s?|lindeza|arras(ou|aram|a)"
                 r"|salv(ou|aram)|bem atendid[oa]s?|show( de bola)?|acolhid[oa]s?|acolhedor[a]?|acolhimento|gratidao"
                 r"|recomendadissim[oa]|caprich\w*"),
    (2.0, PLAIN, r"gostei|gostamos|gostou|gosto muito|agradave(l|is)|recomend(o|ei|amos|arei|aria)|indiquei|indico"
                 r"|vou indicar|atencios[oa]s?|gentil|gentis|gentileza|educad[oa]s?|simpatic[oa]s?|carinhos[oa]s?"
                 r"|prestativ[oa]s?|querid[oa]s?|top|melhor|melhorou|melhorando|content[ea]s?|alegre|alegria"
                 r"|elogi\w*|bonit[oa]s?|valeu a pena|vale a pena|deu (tudo )?certo|resolv(eu|eram|ido|ida)"
                 r"|que bom|ainda bem|gracas a deus|ufa|aliviad[oa]|alivio|organizad[oa]s?|muito bem|bem feito"
                 r"|ansios[oa]s? (para|por) (ver|o|a|fazer|comecar|chegar)|curt(i|iu|imos|indo|o muito)|cuidados[oa]s?"
                 r"|competentes?|humanizad[oa]s?|(feito|feita|ficou|fez|fizeram) direito|me (acalmou|tranquilizou)"
                 r"|(volto|voltarei|vou voltar|voltaria) (com certeza|sempre)|gosto (de vir|daqui|de voces)"
                 r"|uhul|oba|eba|iupi|confio|confianca"),
    (1.5, PLAIN, r"bom|boa|bons|boas|legal|legais|eficien\w*|rapid[oa]s?|rapidez|agil|ageis|pontua(l|is)"
                 r"|confortave(l|is)|amor|amores|fofa?s?|anjos?|estou bem|fiquei bem|beleza pura"),
    (0.5, PLAIN, r"tranquil[oa]s?|beleza|massa|joia"),
    (2.0, THANKS, r"obrigad[oa]s?|obrigadao|obrigadissim[oa]|agradec\w*|grat[oa]s?|gratidao|valeu"),
    (0.3, FIXED, r"desde ja (agradec\w*|obrigad[oa])|agradec\w* desde ja|agradec\w* a atencao"
                 r"|obrigad[oa] pela atencao"),
    # complaints, frustration
    (-3.0, FIXED, r"procon|reclame aqui|processar|nunca mais (volto|venho|piso|vou)|perda de tempo"
                  r"|perdi (meu|o|um|a) (dia|tempo|dinheiro|manha|tarde|viagem)|falta de (respeito|educacao"
                  r"|profissionalismo|organizacao|compromisso|consideracao|atencao|empatia|paciencia|cuidado|higiene"
                  r"|comunicacao|informacao|interesse|preparo)|(nao|nunca mais) (volto|voltarei|venho|piso|retorno)"
                  r"|zero (profissionalismo|educacao|respeito|empatia|organizacao|atencao|compromisso|paciencia"
                  r"|cuidado|resultado|retorno|resposta|consideracao|interesse|higiene)|sem condicoes"
                  r"|(p|puta|puto) da vida|jog(ar|uei|aram|ou) (\w+ )?dinheiro fora|dinheiro jogado fora"
                  r"|deix(ou|a|aram|am|ando) (muito )?a desejar|(procurar|trocar de|ir para) (outra|outro) (clinica"
                  r"|consultorio|dentista|medic[oa]|lugar)"),
    (-3.0, PLAIN, r"absurd[oa]s?|pessim[oa]s?|horrive(l|is)|horroros[oa]s?|terrive(l|is)|ridicul[oa]s?|descaso"
                  r"|desrespeit\w*|vergonhos[oa]|inaceitave(l|is)|inadmissive(l|is)|lixo|porcaria|nojo|nojent[oa]"
                  r"|odiei|odeio|detestei|palhacada|revoltante|roubo|extorsao|humilh\w*|insuportave(l|is)|intoleravel"
                  r"|furios[oa]s?|arrogantes?|estupid[oa]s?"),
    (-2.5, FIXED, r"ninguem (me |nos )?(responde\w*|atende\w*|avis\w*|retorn\w*|lig\w*|cham\w*|sabia|explic\w*"
                  r"|resolve\w*|deu satisfacao)|ate agora (nada|ninguem|nao)|sem (nenhuma )?(resposta|retorno)"
                  r"|nao (me )?(respond\w*|retorn\w*|atend\w* o telefone|deram retorno|cumpr\w*)"
                  r"|(nao|nem) (fez|faz|teve|tem|vi|vejo) (nenhum |nenhuma )?(efeito|diferenca|resultado)"
                  r"|mal atendid[oa]s?|mal educad[oa]s?|cobr\w* (duas vezes|em dobro|errad\w*|a mais)"
                  r"|cobranca (indevida|errada|duplicada)|dinheiro de volta|(estou|to|fiquei) esperando ate agora"
                  r"|esperando (ha |faz )?(\d+|uma|duas|tres|meia)|(ha |faz )?(\d+|uma|duas|tres) \w+ esperando"
                  r"|esper(ei|amos) (\d+|uma|duas|tres|meia|mais de)|em cima da hora|nao aguento|nao suporto"
                  r"|sempre (atrasad\w*|atras\w*|demor\w*|errad\w*|errando|esquec\w*)"
                  r"|nunca (\w+ )?(cumpr\w*|respeit\w*)"
                  r"|(nao|nunca|nem) funcion\w*|vim a toa|viagem perdida"),
    (-2.0, PLAIN, r"decepc\w*|decepcion\w*|insatisf\w*|indignad[oa]s?|revoltad[oa]s?|chatead[oa]s?|frustrad[oa]s?"
                  r"|frustrante|irritad[oa]s?|irritante|raiva|grosseir\w*|gross[oa]s?|reclam\w*|pior|piorou|piorando"
                  r"|ruim|ruins|triste|tristeza|desanimad[oa]s?|desapont\w*|desgost\w*|descontent\w*|aborrecid[oa]s?"
                  r"|magoad[oa]s?|desorganiz\w*|bagunca|sujo|suja|sujeira|mentira|mentiram|enganad[oa]s?"
                  r"|inacreditave(l|is)|lament\w*|que pena|cansad[oa]s? (de|disso)|injust\w*|desleixo|demorad[oa]s?"
                  r"|constrang\w*|antipatic[oa]s?|rispid[oa]s?|frieza|bolad[oa]s?|estrag(ou|aram|ad[oa]s?)"
                  r"|perderam|descuidad[oa]s?|negligen\w*"),
    (-1.5, PLAIN, r"demor\w*|lent[oa]s?|lentidao|atrasad[oa]s?|atras(ou|aram)|errad[oa]s?|erraram|infelizmente"
                  r"|aff|affs|afe|putz|droga|que saco|mal|chat[oa]s?|caro|carissim[oa]|salgad[oa]|complicad[oa]"
                  r"|esquec(eram|eu de mim)|descuid\w*|atras(a|am|ando)|desconfort\w*"
                  r"|(sec[oa]|fri[oa]) (comigo|com a gente)"
                  r"|a toa|quebrad[oa]s?"),
    (-1.0, PLAIN, r"problemas?|poxa|puxa|dificil|cansad[oa]s?|incomodad[oa]s?"),
    (-0.4, FIXED, r"de novo|mais uma vez|outra vez|(segunda|terceira|quarta|quinta) vez|novamente"),
    # distress: pain, fear, worry (a negation cancels it: "sem dor", "não estou preocupada")
    (-2.0, DISTRESS, r"pavor|desesperad[oa]s?|apavorad[oa]s?|angustiad[oa]s?|sofr(endo|i|o)|morrendo de \w+"),
    (-1.5, DISTRESS, r"medo|receio|preocupad[oa]s?|preocupacao|nervos[oa]s?|assustad[oa]s?|aflit[oa]s?"
                     r"|ansios[oa]s?|ansiedade|insegur\w*|dor|dores|doendo|doeu muito|ardendo|queimando"
                     r"|sangr\w*|inch(ou|ado|ada|ados|adas|aco|ando)|febre|reacao alergica|(deu|dando|tive) alergia"
                     r"|latej\w*|inflam(ou|ado|ada|ando)|infeccion\w*|(saindo|com) pus|roxo|roxa|hematomas?"),
]
# fmt: on
_TERMS = [(valence, kind, re.compile(rf"\b(?:{alternatives})\b")) for valence, kind, alternatives in _LEXICON]
_NEGATORS = frozenset({"nao", "nem", "nunca", "jamais", "nada", "sem", "nenhum", "nenhuma", "ninguem"})
_INTENSIFIERS = frozenset(
    {"muito", "muita", "super", "mega", "hiper", "bem", "tao", "extremamente", "totalmente", "completamente",
     "bastante", "realmente", "simplesmente", "demais", "mais", "absolutamente", "tremendamente"}
)  # fmt: skip
# "nunca fui tão bem atendida", "nunca esteve tão bonita": a superlative, not a negation.
_NEVER_SO = re.compile(r"\bnunca\b[\w ]{0,25}\b(tao|tanto|tamanho)\s+(\w+\s+)?$")
_AFTER_INTENSIFIER = re.compile(r"^ (demais|muito|mesmo|bastante|para caramba|pra caramba|de verdade)\b")
_SOFTENER = re.compile(r"\b(um pouco|um pouquinho|meio|levemente|ligeiramente|um tanto|quase|pouco)\s*$")
_CONTRAST = re.compile(r"\b(mas|porem|entretanto|contudo|todavia|so que|no entanto)\b")
_CLAUSE_END = re.compile(r"[.,;:!?]")
# A negation stops at a subordinate clause: in "não acredito que perderam", "perderam" is not negated.
# So does it at a new coordinated verb: in "não pegou e doeu", "doeu" is affirmed. "do que" and "o que" are no
# clause of their own ("não tenho do que reclamar").
_SUBORDINATE = re.compile(r"(?<!\bdo )(?<!\bo )\b(?:que|se|porque|quando)\b|\be\b")
# A mild complaint word in a question asks about it ("a consulta demora quanto tempo?"), it does not complain.
_QUESTION = re.compile(r"[^.!?]*\?")
QUESTION_FACTOR, MILD = 0.1, 1.5
# fmt: off
_EMOJIS = {
    **dict.fromkeys("😍🥰😘❤♥💖💕💗💓💞💝🤩", 2.5),
    **dict.fromkeys("😊☺🙂😀😃😄😁🤗😌👏🙌✨💯🎉🥳", 1.5),
    **dict.fromkeys("👍👌🙏😉", 0.5),
    **dict.fromkeys("😡😠🤬👿", -3.0),
    **dict.fromkeys("😤😒🙄👎💔😑", -2.0),
    **dict.fromkeys("😞😔😢😭😩😫😟☹🙁😕😣😖😰😨😱", -1.5),
    **dict.fromkeys("😬😓", -0.5),
}
# fmt: on
_EMOTICONS = [(re.compile(r"(?<![\w/]):-?[)D]|(?<!\w)=\)"), 1.5), (re.compile(r"(?<![\w/]):'?-?\(|(?<!\w)=\("), -1.5)]
NEGATED_FACTOR = -0.6  # "não gostei" is less negative than "detestei"
NEGATIVITY_WEIGHT = 1.3
COURTESY_FACTOR = 0.15  # thanks in a message that asks something
INTENSIFIER_FACTOR, AFTER_FACTOR, SOFTENER_FACTOR = 1.5, 1.4, 0.5
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
EMOJI_REPEATS = 3  # "👏👏👏👏👏" says no more than three
SHOUTING_FACTOR, EXCLAMATION_STEP, EXCLAMATIONS = 1.3, 0.1, 3
_SCALE = 4.0


@dataclass(frozen=True)
class SentimentReading:
    sentiment: Sentiment
    score: float  # -1..1


def read_sentiment(text: str) -> SentimentReading:
    """The sentiment of a patient's message (or burst) and its score."""
    normalised = normalise(text)
    total = _words_valence(normalised, asks="?" in text) + _emoji_valence(text)
    total *= _emphasis(text) if total else 1.0
    score = round(total / math.sqrt(total * total + _SCALE), 3)
    if score >= SENTIMENT_BAND:
        return SentimentReading(Sentiment.POSITIVE, score)
    if score <= -SENTIMENT_BAND:
        return SentimentReading(Sentiment.NEGATIVE, score)
    return SentimentReading(Sentiment.NEUTRAL, score)


def _words_valence(text: str, *, asks: bool) -> float:
    contrasts = [found.end() for found in _CONTRAST.finditer(text)]
    pivot = contrasts[-1] if contrasts else None
    questions = [found.span() for found in _QUESTION.finditer(text)]
    total = 0.0
    for valence, kind, match in _leftmost_longest(text):
        value = _in_context(text, valence, kind, match)
        if -MILD <= valence < 0 and kind != FIXED and any(a <= match.start() < b for a, b in questions):
            value *= QUESTION_FACTOR
        if kind == THANKS and asks:
            value *= COURTESY_FACTOR
        if pivot is not None:
            value *= AFTER_CONTRAST if match.start() >= pivot else BEFORE_CONTRAST
        total += value * (NEGATIVITY_WEIGHT if value < 0 else 1.0)
    return total


def _leftmost_longest(text: str) -> list[tuple[float, str, re.Match[str]]]:
    """Every term found, overlaps resolved as a reader would: the earliest, then the longest, wins."""
    found = [(valence, kind, match) for valence, kind, pattern in _TERMS for match in pattern.finditer(text)]
    found.sort(key=lambda item: (item[2].start(), -(item[2].end() - item[2].start())))
    kept, covered_to = [], -1
    for item in found:
        if item[2].start() >= covered_to:
            kept.append(item)
            covered_to = item[2].end()
    return kept


def _in_context(text: str, valence: float, kind: str, match: re.Match[str]) -> float:
    if valence == 0 or kind == FIXED:
        return valence
    clause = _SUBORDINATE.split(_CLAUSE_END.split(text[: match.start()])[-1])[-1]
    before = clause.split()[-3:]
    if any(word in _NEGATORS for word in before) and not _NEVER_SO.search(clause):
        return 0.0 if kind == DISTRESS else valence * NEGATED_FACTOR
    value = valence
    if any(word in _INTENSIFIERS for word in before[-2:]):
        value *= INTENSIFIER_FACTOR
    elif _SOFTENER.search(clause):
        value *= SOFTENER_FACTOR
    if _AFTER_INTENSIFIER.match(text[match.end() :]):
        value *= AFTER_FACTOR
    return value


def _emoji_valence(text: str) -> float:
    counts: dict[str, int] = {}
    for char in text:
        if char in _EMOJIS:
            counts[char] = counts.get(char, 0) + 1
    total = sum(_EMOJIS[char] * min(n, EMOJI_REPEATS) for char, n in counts.items())
    total += sum(valence * len(pattern.findall(text)) for pattern, valence in _EMOTICONS)
    return total * NEGATIVITY_WEIGHT if total < 0 else total


def _emphasis(text: str) -> float:
    """Exclamation marks and a message in capitals say it louder."""
    letters = [char for char in text if char.isalpha()]
    shouting = len(letters) >= 8 and sum(char.isupper() for char in letters) >= 0.7 * len(letters)
    return (SHOUTING_FACTOR if shouting else 1.0) * (1 + EXCLAMATION_STEP * min(text.count("!"), EXCLAMATIONS))
