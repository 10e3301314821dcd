"""`{{variable}}` templates (cards 086, 121)."""

from __future__ import annotations

import pytest

from shared.templates.rendering import MissingVariables, render, variables_in


def test_variables_are_found_in_order_once_and_filled():
    text = "Olá, {{nome}}! A {{ clinica }} te espera, {{nome}}."
    assert variables_in(text) == ["nome", "clinica"]
    assert render(text, {"nome": "Rita", "clinica": "Clínica Sol"}) == "Olá, Rita! A Clínica Sol te espera, Rita."


def test_a_missing_variable_is_an_error_unless_lenient():
    with pytest.raises(MissingVariables) as raised:
        render("Olá, {{nome}} da {{clinica}}", {"nome": "Rita"})
    assert raised.value.names == ["clinica"]
    assert render("Olá, {{nome}}!", {}, strict=False) == "Olá, !"


def test_text_without_variables_and_single_braces_are_left_alone():
    assert render("Preço: {valor} em {{ }}", {}) == "Preço: {valor} em {{ }}"
