"""Checking `{{placeholders}}` before a template is saved, and filling only the known ones (cards 121, 122)."""

from __future__ import annotations

import pytest

from shared.templates.rendering import fill_known, placeholder_problems


def test_well_formed_placeholders_and_plain_braces_pass():
    assert placeholder_problems("Olá {{nome}}, {{ data }} às {{hora_1}}. Preço: {valor}") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Olá {{ nome", "is not closed"),
        ("{{a {{b}}", "is not closed"),
        ("Olá {{}}", "empty placeholder"),
        ("{{   }}", "empty placeholder"),
        ("{{nome-completo}}", "invalid variable name 'nome-completo'"),
        ("{{ endereço }}", "invalid variable name 'endereço'"),
        ("{{1nome}}", "invalid variable name"),
        ("{{{nome}}}", "invalid variable name"),
        ("nome}} e mais", "closes no placeholder"),
        ("{{" + "a" * 41 + "}}", "longer than 40"),
    ],
)
def test_each_malformed_placeholder_is_named(text, problem):
    problems = placeholder_problems(text)
    assert len(problems) == 1 and problem in problems[0], problems


def test_every_problem_is_reported_with_its_position():
    problems = placeholder_problems("{{}} ok {{nome}} }} e {{x")
    assert [p.split(" at position ")[1].split(":")[0].split(" ")[0] for p in problems] == ["0", "17", "22"]


def test_fill_known_leaves_the_unknown_for_a_person():
    assert fill_known("Oi {{nome}}, dia {{ data }}", {"nome": "Rita"}) == "Oi Rita, dia {{ data }}"
    assert fill_known("{{n}}", {"n": 0}) == "0"
