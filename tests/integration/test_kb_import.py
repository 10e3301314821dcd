"""`clinicbot kb import` and `kb show`, through the CLI's main(), into a Chroma folder of the test's own."""

from pathlib import Path

import pytest

from shared.cli import main
from shared.migrate import PROJECT_ROOT

SAMPLE = str(PROJECT_ROOT / "local/sample_kb.yaml")
OTHER = str(PROJECT_ROOT / "tests/data/other_clinic_kb.yaml")


@pytest.fixture
def chroma_dir(backends, settings_env, tmp_path):
    folder = tmp_path / "chroma"
    settings_env(CHROMA_PERSIST_DIR=str(folder), EMBEDDING_PROVIDER="e5")
    return folder


def test_import_then_show(chroma_dir, capsys):
    assert main(["kb", "import", SAMPLE]) == 0
    imported = capsys.readouterr()

    assert main(["kb", "show"]) == 0
    shown = capsys.readouterr().out

    assert "embedding 16/24" in imported.err and "embedding 24/24" in imported.err
    version = imported.out.split()[2]
    assert "imported: 10 service(s), 7 insurance plan(s), 12 FAQ(s), 24 passage(s)" in imported.out
    assert f"knowledge base {version}: Clínica Bella Pele" in shown


def test_show_says_when_nothing_was_imported(chroma_dir, capsys):
    assert main(["kb", "show"]) == 1
    assert "no knowledge base imported yet" in capsys.readouterr().out


def test_importing_the_same_file_twice_says_so(chroma_dir, capsys):
    main(["kb", "import", OTHER])
    capsys.readouterr()

    assert main(["kb", "import", OTHER]) == 0
    again = capsys.readouterr()
    assert "was already active" in again.out and "embedding" not in again.err


def test_a_bad_file_exits_2_names_the_problem_and_changes_nothing(chroma_dir, tmp_path, capsys):
    main(["kb", "import", SAMPLE])
    before = (chroma_dir / "active.json").read_bytes()
    bad = tmp_path / "bad.yaml"
    original = Path(OTHER).read_text(encoding="utf-8")
    bad.write_text(original.replace("  - name: Limpeza de pele\n    price:", "  - name: Limpeza de pele\n    preço:"))
    capsys.readouterr()

    assert main(["kb", "import", str(bad)]) == 2
    error = capsys.readouterr().err
    assert "services[1].preço: unknown field" in error and "nothing was imported" in error
    assert (chroma_dir / "active.json").read_bytes() == before


@pytest.mark.parametrize("content", [None, "clinic: [not closed\n"])
def test_a_missing_or_unparseable_file_exits_2(chroma_dir, tmp_path, capsys, content):
    path = tmp_path / "kb.yaml"
    if content is not None:
        path.write_text(content)

    assert main(["kb", "import", str(path)]) == 2
    assert "nothing was imported" in capsys.readouterr().err
    assert not (chroma_dir / "active.json").exists()


def test_the_env_file_chooses_the_chroma_folder(chroma_dir, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    env_file = tmp_path / "stack.env"
    env_file.write_text(f"CHROMA_PERSIST_DIR={elsewhere}\n")

    assert main(["--env-file", str(env_file), "kb", "import", OTHER]) == 0

    assert (elsewhere / "active.json").exists() and not (chroma_dir / "active.json").exists()
