"""Opt-out and opt-in: what counts as asking us to stop, and what only sounds like it."""

import pytest

from shared.assistant.consent import OPT_OUT_CONFIRMATION, is_opt_in, is_opt_out

OPT_OUTS = [
    "parar",
    "pare",
    "PARE",
    "Pare.",
    "PARE, por favor",
    "sair",
    "Sair!",
    "stop",
    "STOP",
    "descadastrar",
    "remover",
    "cancelar inscrição",
    "quero cancelar a inscrição",
    "não quero mais receber mensagens",
    "nao quero mais receber msg de vcs",
    "n quero receber mais mensagens",
    "Não quero mais receber, obrigada",
    "chega de propaganda, não quero mais receber",
    "não quero mais receber esse tipo de mensagem",
    "para de me mandar mensagem",
    "Para de me mandar mensagem por favor",
    "parem de mandar promoção",
    "pare de enviar promoções",
    "para de ficar me mandando mensagem",
    "pfv para de mandar msg",
    "parem com essas mensagens",
    "chega de mensagem!",
    "chega de spam",
    "me tira dessa lista",
    "me tira do grupo de promoções",
    "tira meu contato dessa lista por favor",
    "remove meu número da lista de vocês",
    "favor remover meu contato da lista",
    "quero sair da lista",
    "quero me descadastrar",
    "não me mandem mais nada",
    "Não me mandem mais nada, obrigada",
    "não me envie mais propagandas",
    "não quero mais ser incomodada",
    "cancelar mensagens",
]
NOT_OPT_OUTS = [
    "não me mande mais boletos",
    "Não me mande mais boletos por email, prefiro pagar no cartão",
    "vou parar de tomar o remédio?",
    "parar de sangrar",
    "quanto tempo demora pra parar de sangrar?",
    "quero cancelar a consulta",
    "quero cancelar",
    "cancela minha consulta de amanhã",
    "preciso parar o tratamento?",
    "não consigo parar de sentir dor",
    "quando posso parar de usar o aparelho?",
    "não quero receber o resultado por email",
    "para quando tem horário?",
    "pra que serve o peeling?",
    "para?",
    "o sangramento não para",
    "sair de casa cedo é difícil, tem horário à tarde?",
    "pode tirar meu nome da agenda",
    "Pode tirar meu nome da lista de espera, já consegui em outro lugar",
    "não quero mais fazer o clareamento",
    "não vou mais, pode cancelar",
    "a que horas vocês param de atender?",
    "quanto custa o botox?",
    "oi",
    "",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_asking_to_stop_the_messages_is_an_opt_out(text):
    assert is_opt_out(text)


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_stopping_something_else_is_not_an_opt_out(text):
    assert not is_opt_out(text)


OPT_INS = [
    "voltar",
    "VOLTAR",
    "Voltar!",
    "volta",
    "quero voltar a receber",
    "quero voltar a receber as mensagens",
    "podem voltar a me mandar mensagens",
]
NOT_OPT_INS = ["quero voltar pra clínica", "posso voltar a fazer o tratamento?", "quando volto para o retorno?", "pare"]


@pytest.mark.parametrize("text", OPT_INS)
def test_asking_for_the_messages_again_is_an_opt_in(text):
    assert is_opt_in(text)


@pytest.mark.parametrize("text", NOT_OPT_INS)
def test_other_returns_are_not_an_opt_in(text):
    assert not is_opt_in(text)


def test_the_confirmation_says_what_stops_and_how_to_come_back():
    assert "mensagens automáticas" in OPT_OUT_CONFIRMATION
    assert "VOLTAR" in OPT_OUT_CONFIRMATION
    assert is_opt_in("VOLTAR")
