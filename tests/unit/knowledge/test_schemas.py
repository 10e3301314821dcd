"""The knowledge-base file: strict validation that names the faulty field, and Brazilian prices."""

from decimal import Decimal

import pytest

from shared.errors import BadRequest, ValidationFailed
from shared.knowledge.schemas import format_price, load_knowledge_base, parse_knowledge_base
from shared.migrate import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "local/sample_kb.yaml"
OTHER = PROJECT_ROOT / "tests/data/other_clinic_kb.yaml"
MINIMAL = "clinic: {name: Clínica Teste, address: 'Rua A, 1'}\n"


def problems(text: str) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failure:
        parse_knowledge_base(text)
    return {error.field: error.message for error in failure.value.errors}


def test_the_sample_file_is_a_complete_clinic():
    sample = load_knowledge_base(SAMPLE)

    prices = {service.name: service.price for service in sample.services}
    assert sample.clinic.name == "Clínica Bella Pele" and "CEP" in sample.clinic.address
    assert len(sample.services) >= 8 and prices["Limpeza de pele"] == "R$ 180,00"
    assert all(service.preparation for service in sample.services if service.name != "Tratamento de acne")
    assert len(sample.insurance) >= 6 and len(sample.faqs) >= 10


def test_the_other_clinic_differs_in_city_and_price():
    sample, other = load_knowledge_base(SAMPLE), load_knowledge_base(OTHER)

    other_prices = {service.name: service.price for service in other.services}
    assert other.clinic.address != sample.clinic.address and "Belo Horizonte" in other.clinic.address
    assert other_prices["Limpeza de pele"] == "R$ 145,50"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (180, "R$ 180,00"),
        (180.5, "R$ 180,50"),
        (Decimal("1250.5"), "R$ 1.250,50"),
        (0, "R$ 0,00"),
        ("R$ 180", "R$ 180,00"),
        ("R$180,00", "R$ 180,00"),
        ("180", "R$ 180,00"),
        ("R$ 1.250,50", "R$ 1.250,50"),
        ("1.250", "R$ 1.250,00"),
        ("1250.5", "R$ 1.250,50"),
        ("12500", "R$ 12.500,00"),
        ("A partir de R$ 900 por região", "A partir de R$ 900,00 por região"),
        ("R$ 150 (axilas) ou R$ 1.100,5 (pernas)", "R$ 150,00 (axilas) ou R$ 1.100,50 (pernas)"),
        ("Sob consulta", "Sob consulta"),
    ],
)
def test_prices_are_written_the_brazilian_way(given, expected):
    assert format_price(given) == expected


@pytest.mark.parametrize("price", [-10, True, "", "   ", [180]])
def test_nonsense_prices_are_refused(price):
    with pytest.raises(ValueError):
        format_price(price)


def test_a_numeric_price_in_the_file_is_formatted():
    data = parse_knowledge_base(MINIMAL + "services: [{name: Consulta, price: 350}]\n")

    assert data.services[0].price == "R$ 350,00" and data.insurance == [] and data.faqs == []


def test_an_unknown_key_is_named_with_the_keys_allowed_there():
    found = problems(MINIMAL + "services:\n  - {name: A, price: 1}\n  - {name: B, prce: 2}\n")

    assert list(found) == ["services[1].prce"]
    assert "unknown field" in found["services[1].prce"] and "price" in found["services[1].prce"]


def test_unknown_keys_at_the_top_and_in_the_clinic_are_named():
    found = problems(MINIMAL.replace("}", ", whatsapp: '11 9999'}") + "faq: []\n")

    assert set(found) == {"clinic.whatsapp", "faq"}
    assert "faqs" in found["faq"] and "phone" in found["clinic.whatsapp"]


def test_the_clinic_needs_a_name_and_an_address():
    found = problems("clinic: {name: '  '}\n")

    assert set(found) == {"clinic.name", "clinic.address"}


def test_other_mistakes_are_named():
    found = problems(
        MINIMAL.replace("}", ", maps_url: maps.google.com}")
        + "services: [{name: A, price: -5}, {name: a}]\ninsurance: Amil\nfaqs: [{question: 'Dói?'}]\n"
    )

    assert set(found) >= {"clinic.maps_url", "services[0].price", "insurance", "faqs[0].answer"}
    assert "negative" in found["services[0].price"]


def test_a_service_named_twice_is_refused():
    found = problems(MINIMAL + "services: [{name: Limpeza de pele}, {name: limpeza de pele}]\n")

    assert found == {"services": "service 'limpeza de pele' appears twice"}


@pytest.mark.parametrize("text", ["clinic: [unclosed\n", "- just\n- a list\n", ""])
def test_a_file_that_is_not_a_yaml_mapping_is_a_bad_request(text):
    with pytest.raises(BadRequest):
        parse_knowledge_base(text, source="kb.yaml")
