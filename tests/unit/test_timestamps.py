"""Wire timestamps (§3): a fixed format, parsed exactly, never guessed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ewallet.schemas.values import format_timestamp, parse_timestamp

BUCHAREST = ZoneInfo("Europe/Bucharest")


class TestParsing:
    def test_parses_the_wire_format_as_utc(self) -> None:
        assert parse_timestamp("10-07-2020 00:48:15", UTC) == datetime(2020, 7, 10, 0, 48, 15, tzinfo=UTC)

    def test_reads_the_time_in_the_configured_zone(self) -> None:
        assert parse_timestamp("10-07-2020 03:48:15", BUCHAREST) == datetime(2020, 7, 10, 0, 48, 15, tzinfo=UTC)

    @pytest.mark.parametrize(
        "text",
        [
            "1-7-2020 00:48:15",
            "10-07-2020 0:48:15",
            "2020-07-10 00:48:15",
            "10-07-2020T00:48:15",
            "10-07-2020 00:48:15.5",
            " 10-07-2020 00:48:15",
            "10-07-2020 00:48:15 ",
            "31-02-2020 00:00:00",
            "10-13-2020 00:00:00",
            "\u0661\u0660-07-2020 00:48:15",
        ],
    )
    def test_refuses_anything_but_the_exact_format(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_timestamp(text, UTC)

    def test_an_ambiguous_local_time_means_its_first_occurrence(self) -> None:
        # 27-10-2024 03:30 happened twice in Bucharest (EEST, then EET).
        assert parse_timestamp("27-10-2024 03:30:00", BUCHAREST) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)

    def test_refuses_a_local_time_skipped_by_dst(self) -> None:
        with pytest.raises(ValueError):
            parse_timestamp("31-03-2024 03:30:00", BUCHAREST)


class TestFormatting:
    def test_truncates_fractional_seconds(self) -> None:
        assert format_timestamp(datetime(2020, 7, 10, 0, 48, 15, 999999, tzinfo=UTC)) == "10-07-2020 00:48:15"

    def test_prints_in_the_configured_zone(self) -> None:
        assert format_timestamp(datetime(2020, 7, 10, 0, 48, 15, tzinfo=UTC), BUCHAREST) == "10-07-2020 03:48:15"
