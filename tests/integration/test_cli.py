"""The clinicbot command's operations, against the test database."""

import os
import subprocess
import sys

from sqlalchemy import select

from shared.cli import main
from shared.db import session_scope
from shared.users.models import Role, User


def test_create_admin_creates_once(backends, capsys):
    first = main(["create-admin", "--email", "Owner@Example.com", "--name", "Dona", "--password", "segredo-123"])
    second = main(["create-admin", "--email", "owner@example.com", "--password", "outra-senha-1"])

    assert (first, second) == (0, 1)
    assert "already exists" in capsys.readouterr().out
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == "owner@example.com"))
    assert user.role is Role.ADMIN and user.full_name == "Dona"


def test_a_missing_setting_stops_the_command_and_names_it(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}

    result = subprocess.run([sys.executable, "-m", "shared.cli", "create-admin", "--email", "a@example.com"],
                            cwd=tmp_path, env=environment | {"PYTHONPATH": os.getcwd()}, capture_output=True,
                            text=True, timeout=60)  # fmt: skip

    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "REDIS_URL" in result.stderr
