"""The command line, run as a user would run it: a fresh process per command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "long enough pw"


def runner(env_extra: dict[str, str], cwd: Path):
    """Run ``python -m crypto_dash`` in a fresh process, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTO_DASH_")}
    env |= {"PYTHONPATH": str(ROOT), "CRYPTO_DASH_BCRYPT_ROUNDS": "4", **env_extra}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crypto_dash", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=120,
        )

    return run


@pytest.fixture
def cli(tmp_path, db_url):
    data = {
        "CRYPTO_DASH_DATA_DIR": str(tmp_path / "data"),
        "CRYPTO_DASH_DATABASE_URL": db_url,
    }
    return runner(data, tmp_path)


def test_migrate_then_create_admin_work_on_an_empty_data_dir(tmp_path):
    run = runner({}, tmp_path)

    migrated = run("migrate")
    created = run("create-admin", "root", "--password-stdin", stdin=PASSWORD + "\n")

    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    assert "created administrator root" in created.stdout
    assert (tmp_path / "data" / "crypto_dash.sqlite3").exists()
    assert PASSWORD not in created.stdout + created.stderr


def test_a_whole_set_up_from_the_command_line(cli):
    steps = [
        cli("create-admin", "root", "--password-stdin", stdin=PASSWORD),
        cli("create-user", "bob", "--password-stdin", stdin=PASSWORD),
        cli("create-org", "Acme", "--owner", "root"),
        cli("add-member", "acme", "bob", "editor"),
    ]

    for step in steps:
        assert step.returncode == 0, step.stderr
    assert "added bob to Acme as editor" in steps[-1].stdout


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("create-user", "carl", "--password-stdin"), "short", "at least 8"),
        (("create-user", "carl"), "", "--password-stdin"),
        (("create-user", "bad name!", "--password-stdin"), PASSWORD, "user name"),
        (("create-org", "Acme", "--owner", "nobody"), "", "no user"),
        (("add-member", "Nowhere", "root", "viewer"), "", "no organization"),
    ],
)
def test_errors_are_one_sentence_and_a_non_zero_exit(cli, args, stdin, says):
    cli("create-admin", "root", "--password-stdin", stdin=PASSWORD)

    result = cli(*args, stdin=stdin)

    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_names_the_variable(cli, monkeypatch):
    result = subprocess.run(
        [sys.executable, "-m", "crypto_dash", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={
            **os.environ,
            "CRYPTO_DASH_SCHEDULER": "sometimes",
            "PYTHONPATH": str(ROOT),
        },
    )

    assert result.returncode == 1
    assert "CRYPTO_DASH_SCHEDULER" in result.stderr


@pytest.mark.parametrize(
    "command", ["migrate", "create-admin", "create-org", "add-member"]
)
def test_every_command_has_help(cli, command):
    result = cli(command, "--help")

    assert result.returncode == 0
    assert "usage:" in result.stdout


def test_an_unreachable_database_is_one_sentence_not_a_traceback(tmp_path):
    run = runner(
        {"CRYPTO_DASH_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
        tmp_path,
    )

    result = run("migrate")

    assert result.returncode == 1
    assert "error: The database cannot be reached" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_absurd_backfill_range_is_refused_before_any_work(cli):
    result = cli("backfill", "bitcoin", "--days", "99999999")

    assert result.returncode == 2
    assert "must be 1 to 36500" in result.stderr
    assert "Traceback" not in result.stderr
