"""Telling the context of a conversation from the patient's words (card 122)."""

from __future__ import annotations

from shared.templates.schemas import context_key
from shared.templates.suggestions import contexts_in


def test_context_keys_ignore_case_accents_and_punctuation():
    assert context_key("  PÓS procedimento ") == "pos-procedimento"
    assert context_key("Preço!") == "preco"
    assert context_key("???") == ""


def test_keywords_are_found_without_accents_and_the_newest_message_weighs_double():
    found = contexts_in(["Qual o ENDEREÇO? Tem estacionamento?", "quanto custa a consulta"])
    assert found["endereco"] == 2
    assert found["preco"] == 1 and found["agendamento"] == 1
    assert found.most_common(1)[0][0] == "endereco"


def test_words_match_at_their_start_only():
    assert contexts_in(["estou com dores e inchaço depois do procedimento"])["pos-procedimento"] == 2
    assert "pos-procedimento" not in contexts_in(["a doutora atende sábado?"])  # "doutora" is not "dor"
    assert contexts_in(["bom dia"]) == {}
