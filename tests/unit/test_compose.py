"""local/compose.yaml cannot run here (no Docker engine); this keeps it true to the code."""

from pathlib import Path

import yaml

from shared.migrate import PROJECT_ROOT
from shared.routing import FUNCTIONS

COMPOSE = yaml.safe_load((PROJECT_ROOT / "local" / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def test_backing_services_use_the_chosen_images():
    images = {service["image"] for service in SERVICES.values() if "image" in service}
    assert {"postgres:15", "redis:7-alpine", "devlikeapro/waha"} <= images
    assert any("cloud-tasks-emulator" in image for image in images)


def test_every_function_has_a_container_built_from_infra_with_its_extra():
    built = {
        service["build"]["args"]["FUNCTION"]: service["build"] for service in SERVICES.values() if "build" in service
    }
    for function in FUNCTIONS:
        assert function.name in built, function.name
        assert built[function.name]["args"]["EXTRA"] == function.extra
        assert bool(built[function.name]["args"].get("ASGI")) is function.asgi, function.name
        dockerfile = PROJECT_ROOT / "local" / built[function.name]["context"] / built[function.name]["dockerfile"]
        assert Path(dockerfile).resolve() == (PROJECT_ROOT / "infra" / "Dockerfile").resolve()
        assert (PROJECT_ROOT / function.source).exists()


def test_the_environment_names_real_settings_with_valid_values():
    from shared.config import Settings

    environment = SERVICES["secretary-api"]["environment"]
    settings = Settings(_env_file=None, **{key.lower(): value for key, value in environment.items()})
    assert settings.database_url.startswith("postgresql+pg8000://")
    assert set(environment) <= {name.upper() for name in Settings.model_fields}


def test_dependencies_point_at_services_that_exist():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on missing {dependency}"


def test_the_dockerfile_takes_the_function_and_its_extra():
    dockerfile = (PROJECT_ROOT / "infra" / "Dockerfile").read_text()
    assert "ARG FUNCTION" in dockerfile and "ARG EXTRA" in dockerfile
    assert '--extra "${EXTRA}"' in dockerfile and "--no-default-groups" in dockerfile
    assert "functions-framework --target" in dockerfile
