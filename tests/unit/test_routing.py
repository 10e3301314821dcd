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


def test_the_waha_webhook_belongs_to_the_intake_and_tasks_to_their_target():
    assert owner_of("/api/v1/webhooks/waha").name == "webhook_intake"
    assert owner_of("/api/v1/webhooks").name == "secretary_api"  # the outbound webhooks an ADMIN registers
    assert owner_of("/api/v1/webhooks/0b7e4d1f-2a33-4c2e-9a57-6f1c2b1e8d4a").name == "secretary_api"
    assert owner_of("/api/v1/webhooksx").name == "secretary_api"
    processor = owner_of("/tasks/message_processor")
    assert processor.name == "message_processor" and not processor.public
