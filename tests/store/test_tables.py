"""UTCDateTime writes only aware datetimes and reads back aware UTC on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from shopbridge.store.tables import UTCDateTime

STOCKHOLM_SUMMER = timezone(timedelta(hours=2))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2024, 5, 1, 12, 0), sqlite.dialect())


def test_sqlite_values_are_written_as_utc_wall_time() -> None:
    written = UTCDateTime().process_bind_param(
        datetime(2024, 5, 1, 12, 0, tzinfo=STOCKHOLM_SUMMER), sqlite.dialect()
    )
    assert written == datetime(2024, 5, 1, 10, 0)


def test_postgresql_values_are_written_aware_in_utc() -> None:
    written = UTCDateTime().process_bind_param(
        datetime(2024, 5, 1, 12, 0, tzinfo=STOCKHOLM_SUMMER), postgresql.dialect()
    )
    assert written == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert written is not None and written.tzinfo is UTC


@pytest.mark.parametrize(
    "stored",
    [datetime(2024, 5, 1, 10, 0), datetime(2024, 5, 1, 12, 0, tzinfo=STOCKHOLM_SUMMER)],
)
def test_values_read_back_are_aware_utc(stored: datetime) -> None:
    read = UTCDateTime().process_result_value(stored, sqlite.dialect())
    assert read == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert read is not None and read.tzinfo is UTC
