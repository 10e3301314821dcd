from shared.migrate import PROJECT_ROOT
from shared.routing import FUNCTIONS, owner_of


def test_every_api_path_has_an_owner_and_others_do_not():
    assert owner_of("/api/v1/auth/login").name == "secretary_api"
    assert owner_of("/api/v1") is not None
    assert owner_of("/api/v10/x") is None
    assert owner_of("/health") is None


def test_each_function_source_defines_its_entry_point():
    for function in FUNCTIONS:
        source = (PROJECT_ROOT / function.source).read_text()
        assert f"def {function.name}(request)" in source
