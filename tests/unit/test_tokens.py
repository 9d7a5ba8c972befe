"""The signing secret on disk, and the sign-in HTML the pages render."""

from __future__ import annotations

import os
import stat

import pytest

from crypto_dash.errors import ConfigError
from crypto_dash.services import tokens
from crypto_dash.settings import Settings


def test_a_missing_secret_is_generated_once_and_readable_by_its_owner_only(tmp_path):
    settings = Settings(data_dir=tmp_path)

    first = tokens.load_jwt_secret(settings)
    second = tokens.load_jwt_secret(settings)

    mode = stat.S_IMODE((tmp_path / tokens.SECRET_FILE).stat().st_mode)
    assert first == second and len(first) >= 32
    assert mode == 0o600


def test_a_secret_file_others_can_read_stops_start_up(tmp_path):
    path = tmp_path / tokens.SECRET_FILE
    path.write_text("s" * 64)
    os.chmod(path, 0o644)

    with pytest.raises(ConfigError) as refused:
        tokens.load_jwt_secret(Settings(data_dir=tmp_path))

    assert "chmod 600" in refused.value.message


def test_a_short_configured_secret_stops_start_up_with_a_sentence():
    with pytest.raises(ConfigError) as refused:
        Settings(jwt_secret="too short")

    assert "at least 32 bytes" in refused.value.message


def test_a_configured_secret_wins_over_the_file(tmp_path):
    secret = tokens.load_jwt_secret(Settings(data_dir=tmp_path, jwt_secret="k" * 40))

    assert secret == b"k" * 40
    assert not (tmp_path / tokens.SECRET_FILE).exists()


def test_opaque_secrets_carry_their_token_version():
    value = tokens.new_opaque(7)

    assert tokens.opaque_version(value) == 7
    assert tokens.looks_opaque(value)
    assert not tokens.looks_opaque("nodot") and not tokens.looks_opaque(None)


def test_the_sign_in_script_posts_the_ticket_and_cannot_break_out_of_its_tag():
    from crypto_dash.server import ui

    script = ui.sign_in_script('7.ab</script><script>alert(1)"')

    assert script.startswith("<script>") and script.endswith("</script>")
    assert script.count("</script>") == 1
    assert "/api/session/redeem/" in script and "POST" in script


def test_the_sign_out_script_posts_to_logout():
    from crypto_dash.server import ui

    assert "/api/session/logout/" in ui.sign_out_script()
