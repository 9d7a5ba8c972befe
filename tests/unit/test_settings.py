"""Settings: defaults, parsing, sentences naming the variable, and the README table."""

from pathlib import Path

import pytest

from crypto_dash.errors import ConfigError
from crypto_dash.settings import SETTINGS, load_settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_need_no_environment_at_all():
    settings = load_settings({})

    assert settings.database_url.endswith("data/crypto_dash.sqlite3")
    assert settings.fetch_interval_seconds == 300
    assert settings.vs_currencies == ("usd",)
    assert settings.scheduler is True
    assert settings.coingecko_plan == "keyless"


def test_values_are_parsed_from_their_variables():
    settings = load_settings(
        {
            "CRYPTO_DASH_VS_CURRENCIES": "USD, eur",
            "CRYPTO_DASH_SCHEDULER": "off",
            "CRYPTO_DASH_FETCH_INTERVAL_SECONDS": "60",
            "CRYPTO_DASH_COINGECKO_PLAN": "Demo",
            "CRYPTO_DASH_COINGECKO_API_KEY": "CG-abc",
            "CRYPTO_DASH_DATA_DIR": "/tmp/somewhere",
        }
    )

    assert settings.vs_currencies == ("usd", "eur")
    assert settings.scheduler is False
    assert settings.fetch_interval_seconds == 60
    assert settings.coingecko_plan == "demo"
    assert settings.database_url == "sqlite:////tmp/somewhere/crypto_dash.sqlite3"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRYPTO_DASH_FETCH_INTERVAL_SECONDS", "five"),
        ("CRYPTO_DASH_FETCH_INTERVAL_SECONDS", "0"),
        ("CRYPTO_DASH_SCHEDULER", "maybe"),
        ("CRYPTO_DASH_COINGECKO_PLAN", "enterprise"),
        ("CRYPTO_DASH_LOG_LEVEL", "loud"),
        ("CRYPTO_DASH_VS_CURRENCIES", "us d"),
        ("CRYPTO_DASH_DATABASE_URL", "mysql://x"),
        ("CRYPTO_DASH_JWT_SECRET", "too-short"),
        ("CRYPTO_DASH_COINGECKO_BASE_URL", "ftp://proxy"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_sentence_naming_the_variable(
    variable, value
):
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value})

    assert raised.value.variable == variable
    assert variable in raised.value.message
    assert raised.value.message.endswith(".")


def test_a_paid_plan_without_a_key_is_refused():
    with pytest.raises(ConfigError, match="CRYPTO_DASH_COINGECKO_API_KEY"):
        load_settings({"CRYPTO_DASH_COINGECKO_PLAN": "pro"})


def test_redacted_settings_hide_secrets_and_database_passwords():
    settings = load_settings(
        {
            "CRYPTO_DASH_JWT_SECRET": "s" * 40,
            "CRYPTO_DASH_DATABASE_URL": "postgresql://app:hunter2@db/prices",
        }
    )

    shown = str(settings.redacted())

    assert "hunter2" not in shown and "s" * 40 not in shown
    assert "postgresql://app:***@db/prices" in shown


def test_the_readme_lists_every_setting_with_its_default_and_help():
    readme = README.read_text()

    assert settings_table() in readme
    for setting in SETTINGS:
        assert f"`{setting.variable}`" in readme
