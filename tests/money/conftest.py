"""Money tests: a clock on a whole second, so that wire timestamps, which drop fractions, can be
compared exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ewallet.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))
