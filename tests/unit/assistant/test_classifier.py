"""The offline classifier with the real e5 model: normalisation, clear cases, urgency, determinism, and accuracy
floors on the labelled set (tests/data/labelled_messages.yaml)."""

from pathlib import Path

import pytest
import yaml

from shared.assistant.consent import is_opt_out
from shared.assistant.offline.classifier import Classification, IntentClassifier, normalise
from shared.assistant.offline.urgency import detect_urgency
from shared.assistant.schemas import Intent

LABELLED = Path(__file__).parents[2] / "data" / "labelled_messages.yaml"
EXAMPLES = Path(__file__).parents[3] / "shared" / "assistant" / "offline" / "examples.yaml"


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier()


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def answers(classifier, labelled) -> list[Classification]:
    return classifier.classify_many([message["text"] for message in labelled])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Olá, TUDO BEM???", "ola, tudo bem?"),
        ("Oiiii, td bem?", "oi, tudo bem?"),
        ("Qto custa o botox? 😍😍", "quanto custa o botox?"),
        ("vc tb atende hj?", "voce tambem atende hoje?"),
        ("vcs abrem amanhã qdo?", "voces abrem amanha quando?"),
        ("pq n posso ir?", "porque nao posso ir?"),
        ("tô com dor", "estou com dor"),
        ("tá doendo muuuito", "esta doendo muito"),
        ("pra mim e pro meu filho", "para mim e para o meu filho"),
        ("q horas?", "que horas?"),
        ("obg, blz", "obrigado, beleza"),
        ("mandei msg", "mandei mensagem"),
        ("Bom diaaa", "bom dia"),
        ("carrrro issssso", "carro isso"),
        ("kkkkk ok", "ok"),
        ("👍", "ok"),
        ("p/ amanhã c/ a doutora", "para amanha com a doutora"),
        ("oi\nqual o endereço?", "oi. qual o endereco?"),
        ("  AÇÃO   É   ótima  ", "acao e otima"),
        ("voo e enjoo", "voo e enjoo"),
    ],
)
def test_normalise_reads_chat_as_plain_lowercase_portuguese(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("quero marcar uma consulta com a dermatologista", Intent.SCHEDULE),
        ("tem horário livre na sexta de manhã?", Intent.SCHEDULE),
        ("gostaria de agendar uma limpeza", Intent.SCHEDULE),
        ("preciso remarcar minha consulta de quinta", Intent.RESCHEDULE),
        ("dá pra passar meu horário pra semana que vem?", Intent.RESCHEDULE),
        ("quero cancelar minha consulta", Intent.CANCEL),
        ("não vou poder ir amanhã, pode desmarcar", Intent.CANCEL),
        ("qto custa o preenchimento labial?", Intent.PRICE),
        ("qual o valor da limpeza de pele?", Intent.PRICE),
        ("vocês parcelam no cartão?", Intent.PRICE),
        ("qual o endereço de vocês?", Intent.LOCATION_HOURS),
        ("até que horas vocês abrem no sábado?", Intent.LOCATION_HOURS),
        ("vocês aceitam unimed?", Intent.INSURANCE),
        ("atende pelo convênio Bradesco Saúde?", Intent.INSURANCE),
        ("como funciona o bioestimulador?", Intent.PROCEDURE_INFO),
        ("dói fazer canal?", Intent.PROCEDURE_INFO),
        ("quanto tempo de recuperação depois do implante?", Intent.PROCEDURE_INFO),
        ("oi", Intent.GREETING),
        ("bom dia, tudo bem?", Intent.GREETING),
        ("muito obrigada!", Intent.GREETING),
        ("péssimo atendimento, fiquei uma hora esperando", Intent.COMPLAINT),
        ("quero fazer uma reclamação", Intent.COMPLAINT),
        ("PARE", Intent.OPT_OUT),
        ("não quero mais receber mensagens", Intent.OPT_OUT),
        ("quero falar com uma atendente", Intent.OTHER),
        ("ok", Intent.OTHER),
        ("segue o comprovante", Intent.OTHER),
    ],
)
def test_clear_messages_get_their_intent(classifier, text, intent):
    assert classifier.classify(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("oi, qual o endereço?", Intent.LOCATION_HOURS),
        ("Bom dia! Quanto custa o clareamento?", Intent.PRICE),
        ("olá, tudo bem? queria marcar uma avaliação", Intent.SCHEDULE),
        ("boa tarde, vocês aceitam amil?", Intent.INSURANCE),
    ],
)
def test_a_greeting_before_a_question_gets_the_question(classifier, text, intent):
    assert classifier.classify(text).intent is intent


def test_opt_out_is_the_consent_rules_decision_and_nothing_else(answers, labelled):
    texts = [message["text"] for message in labelled]
    assert [found.intent is Intent.OPT_OUT for found in answers] == [is_opt_out(text) for text in texts]


@pytest.mark.parametrize("text", ["😍😍😍", "👋", "🦷✨ quanto custa o clareamento? ✨🦷", "", "   ", "?!", "🏳️‍🌈"])
def test_emojis_and_empty_messages_do_not_break_anything(classifier, text):
    found = classifier.classify(text)
    assert found.intent in Intent
    assert 0.0 <= found.confidence <= 1.0


def test_confidence_is_high_for_the_obvious_and_low_for_the_ambiguous(classifier):
    assert classifier.classify("qual o valor do botox?").confidence > 0.9
    assert classifier.classify("e aquilo que a gente falou?").confidence < 0.9


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tô com muita dor de dente", "dor intensa"),
        ("to com dor", "dor"),
        ("meu dente ta doendo demais, não consegui dormir", "dor intensa"),
        ("dor insuportável no siso", "dor intensa"),
        ("fiz a extração e não para de sangrar", "sangramento"),
        ("minha gengiva está sangrando", "sangramento"),
        ("meu rosto tá todo inchado", "inchaço"),
        ("o lábio inchou muito depois do preenchimento, é normal?", "inchaço"),
        ("estou com febre depois da cirurgia", "febre"),
        ("caí de bicicleta e quebrei o dente da frente", "trauma"),
        ("meu filho bateu a boca e o dente ficou mole", "trauma"),
        ("é urgente, preciso de atendimento", "pedido de urgência"),
        ("EMERGÊNCIA", "pedido de urgência"),
        ("estou com falta de ar depois da anestesia", "dificuldade para respirar"),
        ("tive uma reação alérgica ao ácido", "reação alérgica"),
    ],
)
def test_urgent_messages_are_flagged_with_a_reason(text, reason):
    is_urgent, found = detect_urgency(text)
    assert is_urgent
    assert reason in found


def test_several_signs_make_one_reason():
    assert detect_urgency("estou com muita dor e sangrando muito") == (True, "sangramento e dor intensa")


@pytest.mark.parametrize(
    "text",
    [
        "não estou com dor, só queria uma revisão",
        "sem dor nenhuma, mas o dente está escuro",
        "dói o procedimento?",
        "o canal dói muito?",
        "a limpeza de pele dói?",
        "vai doer?",
        "é normal ficar inchado depois do botox?",
        "é normal sangrar um pouco depois da extração?",
        "quanto tempo dura o inchaço?",
        "o siso precisa tirar mesmo se não tiver doendo?",
        "o inchaço já diminuiu, obrigada",
        "vocês atendem urgência no sábado?",
        "tem atendimento de emergência no fim de semana?",
        "quanto custa o botox?",
        "a restauração caiu, serviço mal feito",
        "o pix caiu na conta?",
        "tô com uma cárie doendo um pouco",
    ],
)
def test_questions_about_pain_and_denials_are_not_urgent(text):
    assert detect_urgency(text) == (False, None)


def test_the_same_message_always_gets_the_same_answer(classifier, labelled):
    texts = [message["text"] for message in labelled[::20]]
    one_by_one = [classifier.classify(text) for text in texts]

    assert [classifier.classify(text) for text in texts] == one_by_one
    assert classifier.classify_many(texts) == one_by_one
    assert IntentClassifier().classify_many(texts) == one_by_one


def test_examples_and_evaluation_set_stay_apart(labelled):
    examples = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    training = {normalise(phrase) for phrases in examples.values() for phrase in phrases}
    assert all(len(phrases) >= 15 for phrases in examples.values())
    assert set(examples) == {intent.value for intent in Intent}
    assert not [message["text"] for message in labelled if normalise(message["text"]) in training]


def test_accuracy_on_the_labelled_set(answers, labelled):
    correct = sum(found.intent.value == message["intent"] for found, message in zip(answers, labelled, strict=True))
    flagged = [found.is_urgent for found in answers]
    urgent = [message["urgent"] for message in labelled]
    true_positives = sum(f and u for f, u in zip(flagged, urgent, strict=True))

    # Measured: intent 0.984 on 921 messages; urgency recall 1.00, precision 0.95 (42 urgent). The set was written
    # in batches, most of them before the rules they exercise; each batch's first run scored 0.85-0.95, so expect
    # about 0.88 on messages nobody has tuned for. These floors catch regressions, not that gap.
    assert correct / len(labelled) >= 0.96
    assert true_positives / sum(urgent) >= 0.95
    assert true_positives / sum(flagged) >= 0.9
    assert all(sum(message["intent"] == intent.value for message in labelled) >= 10 for intent in Intent)
