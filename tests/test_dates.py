"""Tests of rag.dates: publication-date lines and time phrases in questions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rag.dates import (FULL_MONTH_NAMES, INDONESIAN_MONTHS, INDONESIAN_WEEKDAYS, MONTH_NUMBERS, TIMEZONES, DateRange,
                       find_time_expression, mentions_year, parse_published)

WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))
UTC = timezone.utc
SEED = datetime(2022, 8, 13, 13, 56, tzinfo=WIB)
# Saturday 20 August 2022, 10:00 WIB: its ISO week runs Mon 15 .. Sun 21 August.
AS_OF = datetime(2022, 8, 20, 10, 0, tzinfo=WIB)


def d(year: int, month: int, day: int, tz: timezone = WIB) -> datetime:
    return datetime(year, month, day, tzinfo=tz)


# ---------------------------------------------------------------- parse_published


def test_seed_case() -> None:
    got = parse_published("13 Agustus 2022 13:56 WIB")
    assert got == SEED
    assert got.utcoffset() == timedelta(hours=7)


def test_timezone_table() -> None:
    assert {k: v.utcoffset(None) for k, v in TIMEZONES.items()} == {
        "WIB": timedelta(hours=7), "WITA": timedelta(hours=8), "WIT": timedelta(hours=9)}


@pytest.mark.parametrize("zone, hours", [
    ("WIB", 7), ("WITA", 8), ("WIT", 9), ("GMT+7", 7), ("GMT +7", 7), ("UTC+08:00", 8),
    ("+0700", 7), ("+07:00", 7), ("-0500", -5), ("UTC", 0), ("GMT", 0), ("(WITA)", 8),
])
def test_zones(zone: str, hours: int) -> None:
    got = parse_published(f"13 Agustus 2022 13:56 {zone}")
    assert got is not None
    assert got.utcoffset() == timedelta(hours=hours)
    assert (got.hour, got.minute) == (13, 56)


@pytest.mark.parametrize("line, expected", [
    ("Sabtu, 13 Agustus 2022 13:56 WIB", SEED),
    ("Saturday, August 13, 2022", d(2022, 8, 13)),
    ("August 13, 2022 1:56 PM", SEED),
    ("Aug 13th, 2022", d(2022, 8, 13)),
    ("13/08/2022 13:56 WIB", SEED),
    ("13/8/2022, 13:56 WIB", SEED),
    ("13-08-2022", d(2022, 8, 13)),
    ("13.08.2022 13:56", SEED),
    ("2022-08-13T13:56:00+07:00", SEED),
    ("2022-08-13T06:56:00Z", SEED),
    ("2022-08-13T06:56:00.123Z", datetime(2022, 8, 13, 6, 56, tzinfo=UTC)),
    ("2022-08-13 13:56:00", SEED),
    ("2022-08-13", d(2022, 8, 13)),
    ("13 Agustus 2022 13.56 WIB", SEED),
    ("13 Agustus 2022 13:56:30 WIB", SEED + timedelta(seconds=30)),
    ("13 Agustus 2022, 13:56 WIB", SEED),
    ("13 Agustus 2022 | 13:56 WIB", SEED),
    ("Sabtu, 13 Agu 2022 - 13:56 WIB", SEED),
    ("13 Agustus 2022 pukul 13.56 WIB", SEED),
    ("13 AGUSTUS 2022 13:56 wib", SEED),
    ("13-Aug-2022 13:56", SEED),
    ("Sat, 13 Aug 2022 06:56:00 GMT", SEED),
    ("Sat, 13 Aug 2022 13:56:00 +0700", SEED),
    ("08/13/2022", d(2022, 8, 13)),  # month > 12 in second place: read US-style
    ("Diterbitkan: Sabtu, 13 Agustus 2022 13:56 WIB", SEED),
    ("Published: 13 August 2022 13:56 WIB", SEED),
    ("Updated: Aug 13, 2022", d(2022, 8, 13)),
    ("Published on August 13, 2022", d(2022, 8, 13)),
    ("  - 13 Agustus 2022 13:56 WIB.  ", SEED),
    ("(13/08/2022)", d(2022, 8, 13)),
    ("Jum'at, 12 Agustus 2022", d(2022, 8, 12)),
    ("Jumat, 12 Agustus 2022", d(2022, 8, 12)),
    ("Minggu, 14 Agustus 2022", d(2022, 8, 14)),
    ("Ahad, 14 Agustus 2022", d(2022, 8, 14)),
    ("Senin, 15 Agustus 2022", d(2022, 8, 15)),
])
def test_formats(line: str, expected: datetime) -> None:
    got = parse_published(line)
    assert got == expected
    assert got.tzinfo is not None


@pytest.mark.parametrize("word, month", [
    ("Januari", 1), ("Jan", 1), ("Februari", 2), ("Feb", 2), ("Pebruari", 2),
    ("Maret", 3), ("Mar", 3), ("April", 4), ("Apr", 4), ("Mei", 5), ("Juni", 6), ("Jun", 6),
    ("Juli", 7), ("Jul", 7), ("Agustus", 8), ("Agu", 8), ("Agt", 8), ("Ags", 8),
    ("September", 9), ("Sep", 9), ("Sept", 9), ("Oktober", 10), ("Okt", 10),
    ("November", 11), ("Nov", 11), ("Nop", 11), ("Desember", 12), ("Des", 12),
    ("January", 1), ("February", 2), ("March", 3), ("May", 5), ("June", 6), ("July", 7),
    ("August", 8), ("Aug", 8), ("October", 10), ("Oct", 10), ("December", 12), ("Dec", 12),
    ("mei", 5), ("AGT", 8), ("Okt.", 10),
])
def test_month_names(word: str, month: int) -> None:
    assert parse_published(f"5 {word} 2021") == d(2021, month, 5)


def test_no_zone_uses_default_tz_then_wib() -> None:
    assert parse_published("13 Agustus 2022 13:56", default_tz=WITA) == datetime(
        2022, 8, 13, 13, 56, tzinfo=WITA)
    assert parse_published("13 Agustus 2022 13:56").utcoffset() == timedelta(hours=7)
    # An explicit zone beats default_tz.
    assert parse_published("13 Agustus 2022 13:56 WIB", default_tz=UTC) == SEED


def test_default_tz_accepts_zoneinfo() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        makassar = zoneinfo.ZoneInfo("Asia/Makassar")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database on this machine")
    got = parse_published("13 Agustus 2022 13:56", default_tz=makassar)
    assert got.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("line", [
    "", "   ", "Pewarta: Dewa", "Editor: Budi", "Tags:", "Baca juga:", "2022",
    "Agustus 2022", "Pada 2022 banjir melanda Jakarta",
    "Banjir melanda Jakarta pada 13 Agustus 2022 13:56 WIB, kata petugas BPBD.",
    "Harga 13 Agustus 2022 naik", "31 Februari 2022", "13 Foo 2022", "13/13/2022",
    "13 Agustus 2022 25:00 WIB", "13 Agustus 2022 13:56 +99:00", "13 Agustus 2022 13:56 PM",
    "Rp 13.000.2022", "Sabtu", "Senin, Selasa",
])
def test_not_a_date(line: str) -> None:
    assert parse_published(line) is None


def test_never_raises_on_odd_input() -> None:
    assert parse_published(None) is None  # type: ignore[arg-type]
    assert parse_published("x" * 10_000) is None


# ---------------------------------------------------------------- find_time_expression


def span(query: str, as_of: datetime = AS_OF) -> tuple[datetime | None, datetime | None]:
    found = find_time_expression(query, as_of)
    assert found is not None, query
    assert found.phrase and found.phrase in query
    return found.since, found.until


@pytest.mark.parametrize("query, since, until", [
    ("berita hari ini", d(2022, 8, 20), d(2022, 8, 21)),
    ("banjir kemarin", d(2022, 8, 19), d(2022, 8, 20)),
    ("banjir hari kemarin", d(2022, 8, 19), d(2022, 8, 20)),
    ("gempa kemarin lusa", d(2022, 8, 18), d(2022, 8, 19)),
    # Calendar weeks, Monday..Sunday.
    ("demo minggu lalu", d(2022, 8, 8), d(2022, 8, 15)),
    ("demo pekan lalu", d(2022, 8, 8), d(2022, 8, 15)),
    ("demo minggu kemarin", d(2022, 8, 8), d(2022, 8, 15)),
    ("demo 2 minggu lalu", d(2022, 8, 1), d(2022, 8, 8)),
    ("demo minggu ini", d(2022, 8, 15), d(2022, 8, 22)),
    ("demo pekan ini", d(2022, 8, 15), d(2022, 8, 22)),
    # Rolling windows: from the same day N units back to the end of today.
    ("demo seminggu terakhir", d(2022, 8, 13), d(2022, 8, 21)),
    ("demo sepekan terakhir", d(2022, 8, 13), d(2022, 8, 21)),
    ("demo 7 hari terakhir", d(2022, 8, 13), d(2022, 8, 21)),
    ("demo dalam 2 minggu terakhir", d(2022, 8, 6), d(2022, 8, 21)),
    ("inflasi 3 bulan terakhir", d(2022, 5, 20), d(2022, 8, 21)),
    ("inflasi tiga bulan terakhir", d(2022, 5, 20), d(2022, 8, 21)),
    ("inflasi 2 tahun terakhir", d(2020, 8, 20), d(2022, 8, 21)),
    ("banjir 3 hari lalu", d(2022, 8, 17), d(2022, 8, 18)),
    ("inflasi bulan lalu", d(2022, 7, 1), d(2022, 8, 1)),
    ("inflasi bulan ini", d(2022, 8, 1), d(2022, 9, 1)),
    ("pemilu tahun lalu", d(2021, 1, 1), d(2022, 1, 1)),
    ("pemilu tahun ini", d(2022, 1, 1), d(2023, 1, 1)),
    ("banjir Agustus 2022", d(2022, 8, 1), d(2022, 9, 1)),
    ("banjir bulan Agustus 2022", d(2022, 8, 1), d(2022, 9, 1)),
    ("banjir Des 2021", d(2021, 12, 1), d(2022, 1, 1)),
    ("pemilu tahun 2017", d(2017, 1, 1), d(2018, 1, 1)),
    ("pemilu pada 2017", d(2017, 1, 1), d(2018, 1, 1)),
    ("pemilu pada tahun 2019", d(2019, 1, 1), d(2020, 1, 1)),
    ("banjir Agustus", d(2022, 8, 1), d(2022, 9, 1)),
    ("banjir bulan Mei", d(2022, 5, 1), d(2022, 6, 1)),
    ("banjir Mei", d(2022, 5, 1), d(2022, 6, 1)),
    ("banjir September", d(2021, 9, 1), d(2021, 10, 1)),  # not yet this year
    ("gempa 13 Agustus 2022", d(2022, 8, 13), d(2022, 8, 14)),
    ("gempa tanggal 13 Agustus 2022", d(2022, 8, 13), d(2022, 8, 14)),
    ("gempa 13 Agustus", d(2022, 8, 13), d(2022, 8, 14)),
    ("gempa 25 Desember", d(2021, 12, 25), d(2021, 12, 26)),
    # English.
    ("news today", d(2022, 8, 20), d(2022, 8, 21)),
    ("news yesterday", d(2022, 8, 19), d(2022, 8, 20)),
    ("news the day before yesterday", d(2022, 8, 18), d(2022, 8, 19)),
    ("protests last week", d(2022, 8, 8), d(2022, 8, 15)),
    ("protests this week", d(2022, 8, 15), d(2022, 8, 22)),
    ("protests in the past week", d(2022, 8, 13), d(2022, 8, 21)),
    ("protests over the past week", d(2022, 8, 13), d(2022, 8, 21)),
    ("protests in the last week", d(2022, 8, 13), d(2022, 8, 21)),
    ("inflation last month", d(2022, 7, 1), d(2022, 8, 1)),
    ("inflation this month", d(2022, 8, 1), d(2022, 9, 1)),
    ("election last year", d(2021, 1, 1), d(2022, 1, 1)),
    ("election this year", d(2022, 1, 1), d(2023, 1, 1)),
    ("floods in the last 7 days", d(2022, 8, 13), d(2022, 8, 21)),
    ("floods in the last 2 weeks", d(2022, 8, 6), d(2022, 8, 21)),
    ("floods in the last three months", d(2022, 5, 20), d(2022, 8, 21)),
    ("floods in the last 2 years", d(2020, 8, 20), d(2022, 8, 21)),
    ("floods 5 days ago", d(2022, 8, 15), d(2022, 8, 16)),
    ("floods a week ago", d(2022, 8, 8), d(2022, 8, 15)),
    ("floods in August 2022", d(2022, 8, 1), d(2022, 9, 1)),
    ("floods August 2022", d(2022, 8, 1), d(2022, 9, 1)),
    ("election in 2017", d(2017, 1, 1), d(2018, 1, 1)),
    ("election during 2019", d(2019, 1, 1), d(2020, 1, 1)),
    ("quake on August 13, 2022", d(2022, 8, 13), d(2022, 8, 14)),
    ("quake 13 August 2022", d(2022, 8, 13), d(2022, 8, 14)),
    ("quake on the 13th of August 2022", d(2022, 8, 13), d(2022, 8, 14)),
    ("floods in May", d(2022, 5, 1), d(2022, 6, 1)),
    ("floods May 13", d(2022, 5, 13), d(2022, 5, 14)),
    ("floods May 2022", d(2022, 5, 1), d(2022, 6, 1)),
    ("what did Jokowi say in March", d(2022, 3, 1), d(2022, 4, 1)),
])
def test_expressions(query: str, since: datetime, until: datetime) -> None:
    assert span(query) == (since, until)


@pytest.mark.parametrize("query, phrase", [
    ("berita hari ini tentang banjir", "hari ini"),
    ("banjir bulan Agustus 2022 di Jakarta", "bulan Agustus 2022"),
    ("pemilu pada 2017?", "pada 2017"),
    ("pemilu pada tahun 2019", "pada tahun 2019"),
    ("quake on August 13, 2022 in Lombok", "on August 13, 2022"),
    ("floods in the last 7 days", "in the last 7 days"),
    ("demo dalam 2 minggu terakhir", "dalam 2 minggu terakhir"),
    ("Gempa KEMARIN LUSA", "KEMARIN LUSA"),
    ("gempa 13 Agustus 2022", "13 Agustus 2022"),
])
def test_phrase_is_exact_substring(query: str, phrase: str) -> None:
    found = find_time_expression(query, AS_OF)
    assert found is not None and found.phrase == phrase
    assert query.replace(found.phrase, "") != query


@pytest.mark.parametrize("query", [
    "siapa presiden Indonesia?",
    "what may happen to fuel prices",
    "prices may rise",
    "May I ask about floods",  # "May" as a verb, no cue, no day, no year
    "protesters march to the palace",
    "berapa 1500 orang yang mengungsi",
    "harga Rp 2017 per liter",
    "proyek Meikarta",  # "Mei" inside a word
    "pada 1500 orang",  # cue, but not a plausible year
    "in 2030",  # more than a year after as_of
    "beberapa hari lalu",  # too vague
    "Desa Sukamaju",  # "des" abbreviation inside a word
    "",
])
def test_no_time_expression(query: str) -> None:
    assert find_time_expression(query, AS_OF) is None


def test_impossible_date_falls_back_to_its_month() -> None:
    found = find_time_expression("31 Februari", AS_OF)
    assert (found.since, found.until, found.phrase) == (d(2022, 2, 1), d(2022, 3, 1), "Februari")


def test_leftmost_wins() -> None:
    found = find_time_expression("banjir kemarin dan minggu lalu", AS_OF)
    assert found.phrase == "kemarin"
    found = find_time_expression("compare last month with August 2021", AS_OF)
    assert found.phrase == "last month"
    # Same start: the longer phrase.
    assert find_time_expression("kemarin lusa", AS_OF).phrase == "kemarin lusa"


def test_since_is_open_ended() -> None:
    found = find_time_expression("kasus sejak 2017", AS_OF)
    assert (found.since, found.until, found.phrase) == (d(2017, 1, 1), None, "sejak 2017")
    found = find_time_expression("prices since last month", AS_OF)
    assert (found.since, found.until, found.phrase) == (d(2022, 7, 1), None, "since last month")
    found = find_time_expression("banjir sejak Agustus 2022", AS_OF)
    assert (found.since, found.until) == (d(2022, 8, 1), None)


def test_half_open_boundaries() -> None:
    found = find_time_expression("Agustus 2022", AS_OF)
    assert (found.since, found.until) == (d(2022, 8, 1), d(2022, 9, 1))
    assert d(2022, 8, 1) in found
    assert datetime(2022, 8, 31, 23, 59, 59, tzinfo=WIB) in found
    assert d(2022, 9, 1) not in found
    assert datetime(2022, 7, 31, 23, 59, tzinfo=WIB) not in found
    # The same instant in another zone compares correctly: 31 Aug 17:00 UTC is 1 Sep WIB.
    assert datetime(2022, 8, 31, 17, 0, tzinfo=UTC) not in found
    assert DateRange(since=None, until=None, phrase="x").__contains__(AS_OF)


def test_keeps_as_of_timezone() -> None:
    as_of = datetime(2022, 8, 20, 23, 30, tzinfo=WITA)
    found = find_time_expression("hari ini", as_of)
    assert (found.since, found.until) == (d(2022, 8, 20, WITA), d(2022, 8, 21, WITA))
    assert found.since.utcoffset() == timedelta(hours=8)
    # "Today" is as_of's own local day: 00:30 WIB on 21 Aug is still 20 Aug in UTC.
    found = find_time_expression("today", datetime(2022, 8, 20, 17, 30, tzinfo=UTC))
    assert found.since == d(2022, 8, 20, UTC)


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError):
        find_time_expression("hari ini", datetime(2022, 8, 20))


def test_calendar_edges() -> None:
    # On a Monday, "last week" is the whole previous Monday..Sunday.
    monday = datetime(2022, 8, 15, 8, tzinfo=WIB)
    assert span("minggu lalu", monday) == (d(2022, 8, 8), d(2022, 8, 15))
    assert span("this week", monday) == (d(2022, 8, 15), d(2022, 8, 22))
    # Across a year boundary.
    january = datetime(2023, 1, 3, tzinfo=WIB)
    assert span("bulan lalu", january) == (d(2022, 12, 1), d(2023, 1, 1))
    assert span("Desember", january) == (d(2022, 12, 1), d(2023, 1, 1))
    assert span("Januari", january) == (d(2023, 1, 1), d(2023, 2, 1))
    # A day of month that the target month lacks is clamped: 31 May - 3 months = 28 Feb.
    may31 = datetime(2022, 5, 31, tzinfo=WIB)
    assert span("3 bulan terakhir", may31) == (d(2022, 2, 28), d(2022, 6, 1))
    assert span("in the last year", datetime(2024, 2, 29, tzinfo=WIB)) == (
        d(2023, 2, 28), d(2024, 3, 1))
    # Next year is plausible (scheduled events), the one after is not.
    assert span("pemilu pada 2023") == (d(2023, 1, 1), d(2024, 1, 1))


def test_shared_names_read_as_dates() -> None:
    """The month and weekday names other modules take from here are the ones dates reads."""
    assert [MONTH_NUMBERS[name] for name in INDONESIAN_MONTHS] == list(range(1, 13))
    assert set(INDONESIAN_MONTHS) <= FULL_MONTH_NAMES
    for number, (day, month) in enumerate(zip(INDONESIAN_WEEKDAYS, INDONESIAN_MONTHS), start=1):
        line = f"{day.capitalize()}, {number} {month.capitalize()} 2022"
        assert parse_published(line) == datetime(2022, number, number, tzinfo=TIMEZONES["WIB"]), line


def test_mentions_year_only_for_plausible_years_as_words() -> None:
    assert mentions_year("banjir pada 2016") and mentions_year("Agustus 1998") and mentions_year("(2022)")
    assert not mentions_year("Rp 2500 per liter") and not mentions_year("1500 orang")
    assert not mentions_year("nomor 120160") and not mentions_year("tahun lalu")
