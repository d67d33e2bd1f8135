"""Settings: defaults < EWALLET_* environment < command-line flags (§9)."""

from dataclasses import fields
from decimal import Decimal

import pytest

from ewallet.cli import build_parser, settings_from
from ewallet.settings import Settings, SettingsError


class TestPrecedence:
    def test_uses_the_defaults_of_section_9(self) -> None:
        settings = Settings.load(environ={})
        assert (settings.host, settings.port) == ("127.0.0.1", 8080)
        assert settings.database_url == "sqlite:///./ewallet.db"
        assert settings.system_key is None
        assert settings.system_name == "ewallet-system"
        assert settings.session_lifetime == 86400
        assert (settings.worker_limit, settings.session_limit) == (100, 100)
        assert (settings.max_frame, settings.frame_timeout, settings.idle_timeout) == (65536, 30, 300)
        assert settings.max_connections == 10000
        assert settings.anon_rate == 300
        assert settings.conversion_rate == Decimal("1.00")
        assert settings.timezone == "UTC"
        assert (settings.session_sweep, settings.account_sweep, settings.timer_sweep) == (60, 3600, 60)
        assert settings.log_level == "INFO"

    def test_environment_overrides_defaults(self) -> None:
        settings = Settings.load(environ={"EWALLET_PORT": "9001", "EWALLET_USER_SUPPLY": "0"})
        assert settings.port == 9001
        assert settings.user_supply is False

    def test_overrides_beat_the_environment(self) -> None:
        assert Settings.load(environ={"EWALLET_PORT": "9001"}, port=9002).port == 9002

    def test_a_none_override_keeps_the_environment_value(self) -> None:
        assert Settings.load(environ={"EWALLET_PORT": "9001"}, port=None).port == 9001

    def test_an_empty_variable_counts_as_unset(self) -> None:
        assert Settings.load(environ={"EWALLET_PORT": ""}).port == 8080

    def test_accepts_the_short_database_variable(self) -> None:
        assert Settings.load(environ={"EWALLET_DATABASE": "sqlite:///x.db"}).database_url == "sqlite:///x.db"

    def test_the_full_database_variable_wins_over_the_short_one(self) -> None:
        environ = {"EWALLET_DATABASE": "sqlite:///short.db", "EWALLET_DATABASE_URL": "sqlite:///full.db"}
        assert Settings.load(environ=environ).database_url == "sqlite:///full.db"

    def test_flags_override_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("EWALLET_PORT", "9001")
        monkeypatch.setenv("EWALLET_IDLE_TIMEOUT", "12.5")
        args = build_parser().parse_args(["serve", "--port", "9003", "--database", "sqlite:///flag.db"])
        settings = settings_from(args)
        assert settings.port == 9003
        assert settings.idle_timeout == 12.5
        assert settings.database_url == "sqlite:///flag.db"


class TestRefusedValues:
    def test_names_the_variable_but_not_its_value(self) -> None:
        with pytest.raises(SettingsError) as caught:
            Settings.load(environ={"EWALLET_PORT": "not-a-port-xyz"})
        assert "EWALLET_PORT" in str(caught.value)
        assert "not-a-port-xyz" not in str(caught.value)

    @pytest.mark.parametrize(
        "environ",
        [
            {"EWALLET_TIMEZONE": "Mars/Olympus"},
            {"EWALLET_CONVERSION_RATE": "0"},
            {"EWALLET_CONVERSION_RATE": "1.005"},
            {"EWALLET_WORKER_LIMIT": "0"},
            {"EWALLET_USER_SUPPLY": "maybe"},
            {"EWALLET_PORT": "99999"},
            {"EWALLET_HTTP_PORT": "-1"},
            {"EWALLET_LOG_LEVEL": "chatty"},
            {"EWALLET_DATABASE_URL": "foo://bar"},
            {"EWALLET_DATABASE_URL": "sqlite://"},
            {"EWALLET_DATABASE_URL": "postgresql+asyncpg://u@h/d"},
            {"EWALLET_SYSTEM_KEY": "k" * 31},
        ],
    )
    def test_refuses_unusable_values(self, environ: dict[str, str]) -> None:
        with pytest.raises(SettingsError):
            Settings.load(environ=environ)

    @pytest.mark.parametrize("level", ["debug", "INFO", "Warning", "ERROR", "critical"])
    def test_accepts_the_logging_levels_in_any_case(self, level: str) -> None:
        assert Settings(log_level=level).log_level == level

    def test_a_bad_flag_exits_with_status_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        from ewallet.cli import main

        assert main(["serve", "--worker-limit", "0"]) == 2
        assert "EWALLET_WORKER_LIMIT" in capsys.readouterr().err


class TestFlags:
    def test_serve_help_lists_every_setting_with_its_flag_and_variable(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from ewallet.cli import main

        with pytest.raises(SystemExit) as stopped:
            main(["serve", "--help"])
        assert stopped.value.code == 0
        help_text = capsys.readouterr().out
        for f in fields(Settings):
            assert "--" + f.metadata.get("flag", f.name.replace("_", "-")) in help_text
            assert "EWALLET_" + f.name.upper() in help_text

    def test_a_system_key_shorter_than_32_is_refused_not_ignored(self) -> None:
        with pytest.raises(SettingsError) as caught:
            Settings(system_key="x" * 31)
        assert "x" * 31 not in str(caught.value)
        assert Settings(system_key="x" * 32).system_key_usable
        assert not Settings().system_key_usable
