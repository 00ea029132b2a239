"""Dates in Indonesian and English news: publication lines and time phrases in questions.

Two jobs, both with the standard library only:

* `parse_published` turns the publication-date line of a scraped page or feed item
  ("Sabtu, 13 Agustus 2022 13:56 WIB", "2022-08-13T06:56:00Z") into a timezone-aware
  datetime. It is strict on purpose: the whole line must be a date, so it can be used
  to *find* the date line among the other lines of scraped text.
* `find_time_expression` spots a time phrase in a user's question ("banjir minggu lalu",
  "news in August 2022") and returns the half-open period it names, relative to a
  reference time, so retrieval can filter articles by date.

Left out on purpose: dates inside prose ("... pada 13 Agustus lalu, ..." in article text),
relative page stamps ("2 jam yang lalu"), ranges with two ends ("Januari sampai Maret"),
weekday references ("Senin lalu"), the future ("besok", "next week"), times of day in
questions, and non-Gregorian calendars.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Callable

TIMEZONES: dict[str, timezone] = {
    "WIB": timezone(timedelta(hours=7), "WIB"),  # western Indonesia (Jakarta)
    "WITA": timezone(timedelta(hours=8), "WITA"),  # central (Bali, Makassar)
    "WIT": timezone(timedelta(hours=9), "WIT"),  # eastern (Papua)
}
# A date without a zone is read as WIB: most Indonesian outlets are in Jakarta and
# print WIB times, so this is right far more often than UTC would be.
DEFAULT_TZ = TIMEZONES["WIB"]

# The names and numbers other modules share (articles, search, answer): one definition here.
YEAR_DIGITS = r"\d{4}"
"""A year as a date line prints it: any four digits (`datetime` then checks the whole date)."""
YEAR_PATTERN = r"(?:1[89]|20)\d\d"
"""A year named in prose or in a question (1800-2099), so "Rp 2500" or "3000 orang" is not one."""
_YEAR_WORD = re.compile(rf"\b{YEAR_PATTERN}\b")


def mentions_year(text: str) -> bool:
    """Whether `text` names a year (YEAR_PATTERN) as a word of its own ("pada 2016", "Agustus 2022")."""
    return _YEAR_WORD.search(text) is not None


# Month names: "full names | abbreviations". Only full names may stand alone in a
# question; abbreviations like "des" or "mar" are too often other words.
_MONTH_TABLE = (
    "januari january|jan", "februari pebruari february|feb peb", "maret march|mar",
    "april|apr", "mei may|", "juni june|jun", "juli july|jul",
    "agustus august|agu agt ags agst aug", "september|sep sept",
    "oktober october|okt oct", "november|nov nop", "desember december|des dec",
)
MONTH_NUMBERS: dict[str, int] = {}
"""Every spelling of a month this module reads (full names and abbreviations, Indonesian
and English, lowercase) -> its number, 1-12."""
FULL_MONTH_NAMES: set[str] = set()
"""The full month names (Indonesian and English, lowercase): the ones that may stand alone in a question."""
for _number, _entry in enumerate(_MONTH_TABLE, start=1):
    _full, _abbr = _entry.split("|")
    FULL_MONTH_NAMES.update(_full.split())
    MONTH_NUMBERS.update(dict.fromkeys(_full.split() + _abbr.split(), _number))
INDONESIAN_MONTHS: tuple[str, ...] = tuple(entry.split("|")[0].split()[0] for entry in _MONTH_TABLE)
"""januari ... desember, in calendar order."""
MONTH_NAMES: frozenset[str] = frozenset(FULL_MONTH_NAMES)
"""Full month names, Indonesian and English, lowercased ("januari", "january", "mei", "may", ...)."""
MONTH_ABBREVIATIONS: frozenset[str] = frozenset(MONTH_NUMBERS) - MONTH_NAMES
"""Their abbreviations ("jan", "agt", "aug", ...): too often other words to stand alone in a question."""
WEEKDAY_NAMES: frozenset[str] = frozenset("senin selasa rabu kamis jumat sabtu minggu ahad monday tuesday "
                                          "wednesday thursday friday saturday sunday".split())
"""Weekday names as single words (WEEKDAY_PATTERN below also reads their variants: "jum'at", "tue")."""


def month_name(month: int, english: bool = False) -> str:
    """A month's name, capitalised: 8 -> "Agustus" (or "August")."""
    names = _MONTH_TABLE[month - 1].split("|")[0].split()
    return (names[-1] if english else names[0]).capitalize()


INDONESIAN_WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
"""senin ... minggu, Monday first, as most often spelt; WEEKDAY_PATTERN also reads "jum'at" and "ahad"."""
_WEEKDAY_SPELLINGS = {"jumat": r"jum['’`]?at"}
WEEKDAY_PATTERN = ("|".join(_WEEKDAY_SPELLINGS.get(day, day) for day in INDONESIAN_WEEKDAYS)
                   + r"|ahad|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs?(?:day)?)?|fri(?:day)?"
                   r"|sat(?:urday)?|sun(?:day)?")
"""A weekday's name, Indonesian or English, full or abbreviated (a regex alternation, without a group)."""

# ---------------------------------------------------------------- parse_published

_PUNCT = " \t\r\n.,;:|()[]-–—•·*"
_PREFIX = re.compile(
    r"^(?:diterbitkan|dipublikasikan|terbit|diperbarui|published|updated|last\s+updated"
    r"|posted|tanggal|date)(?!\w)(?:\s+(?:on|pada))?\s*[:\-–|]?\s*", re.I)
_WEEKDAY_PREFIX = re.compile(rf"^(?:{WEEKDAY_PATTERN})(?!\w)\.?\s*,?\s*", re.I)

_TZ = r"(?:wita|wit|wib|utc|gmt|z)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?"
# Optional time after the date: "T13:56:00", ", 13:56", " | 13.56", " pukul 13:56", then a zone.
_TIME = (r"(?:(?:t|\s*[,|\-–]\s*|\s+)(?:(?:pukul|pkl\.?|jam|at)\s*)?"
         r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,]\d+)?)?"
         r"(?:\s*(?P<ampm>[ap])\.?m\.?)?"
         rf"(?:\s*\(?(?P<tz>{_TZ})\)?)?)?")
_MON = r"(?P<mon>[a-z]{3,9})\.?"
_PUBLISHED = [re.compile(form + _TIME, re.I) for form in (
    rf"(?P<y>{YEAR_DIGITS})[-/.](?P<mo>\d{{1,2}})[-/.](?P<d>\d{{1,2}})",  # ISO 8601, 2022/08/13
    rf"(?P<d>\d{{1,2}})[-/.](?P<mo>\d{{1,2}})[-/.](?P<y>{YEAR_DIGITS})",  # 13/08/2022: day first
    rf"(?P<d>\d{{1,2}})(?:\s+|-){_MON}(?:\s+|-)(?P<y>{YEAR_DIGITS})",  # 13 Agustus 2022, 13-Aug-2022
    rf"{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>{YEAR_DIGITS})",  # August 13, 2022
)]
_ZONE = re.compile(r"([A-Z]*)(?:([+-])(\d{1,2}):?(\d{2})?)?")


def parse_published(text: str, default_tz: tzinfo | None = None) -> datetime | None:
    """Read a publication-date line; None when the line is not (only) a date.

    A zone in the text wins; otherwise `default_tz`, otherwise WIB (+07:00).
    A date without a time is midnight. Never raises on bad input.
    """
    fields = _date_fields(text)
    return None if fields is None else _build(fields, default_tz)


def parse_until(text: str, default_tz: tzinfo | None = None) -> datetime | None:
    """The exclusive end of an "until" bound a user typed: a date without a time includes
    its whole day ("2022-08-14" -> 2022-08-15 00:00), a date with a time is that moment.
    The one meaning of `--until`, `get_retriever(until=...)` and the UI's date box."""
    fields = _date_fields(text)
    moment = None if fields is None else _build(fields, default_tz)
    if moment is None or fields is None or fields.get("H") is not None:
        return moment
    return moment + timedelta(days=1)


def _date_fields(text: str) -> dict[str, Any] | None:
    # Date lines are short; anything long is prose that merely mentions a date.
    if not isinstance(text, str) or len(text) > 80:
        return None
    line = _PREFIX.sub("", text.strip(_PUNCT), count=1)
    line = _WEEKDAY_PREFIX.sub("", line, count=1).strip(_PUNCT)
    for pattern in _PUBLISHED:
        match = pattern.fullmatch(line)
        if match:
            return match.groupdict()
    return None


def _build(g: dict[str, Any], default_tz: tzinfo | None) -> datetime | None:
    month = int(g["mo"]) if g.get("mo") else MONTH_NUMBERS.get((g.get("mon") or "").lower())
    if month is None:
        return None
    day, year = int(g["d"]), int(g["y"])
    if g.get("mo") and month > 12 >= day:  # a US-style 08/13/2022 in an English feed
        day, month = month, day
    hour, minute, second = int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0)
    if g["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if g["ampm"].lower() == "p" else 0)
    try:  # datetime() and timezone() reject 31 Februari, 25:00, +99:00 and the like
        return datetime(year, month, day, hour, minute, second,
                        tzinfo=_zone(g["tz"], default_tz))
    except ValueError:
        return None


def _zone(token: str | None, default_tz: tzinfo | None) -> tzinfo:
    if not token:
        return default_tz or DEFAULT_TZ
    match = _ZONE.fullmatch(token.upper().replace(" ", ""))
    if match is None:  # the date patterns only capture what _ZONE accepts
        return default_tz or DEFAULT_TZ
    name, sign, hours, minutes = match.groups()
    if sign:  # an explicit offset ("GMT+7", "+0700") beats any name before it
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-offset if sign == "-" else offset)
    return TIMEZONES.get(name, timezone.utc)  # Z, UTC, GMT


# ---------------------------------------------------------------- find_time_expression

@dataclass(frozen=True)
class DateRange:
    """The period a question names: since <= t < until; None means open on that side."""

    since: datetime | None
    until: datetime | None
    phrase: str  # the exact substring of the question, so callers can strip it

    def __contains__(self, moment: datetime) -> bool:
        return ((self.since is None or self.since <= moment)
                and (self.until is None or moment < self.until))


_NUMBERS = {"satu": 1, "one": 1, "a": 1, "an": 1, "dua": 2, "two": 2, "tiga": 3,
            "three": 3, "empat": 4, "four": 4, "lima": 5, "five": 5, "enam": 6, "six": 6,
            "tujuh": 7, "seven": 7, "delapan": 8, "eight": 8, "sembilan": 9, "nine": 9,
            "sepuluh": 10, "ten": 10}
_UNITS = {"hari": "day", "day": "day", "minggu": "week", "pekan": "week", "week": "week",
          "bulan": "month", "month": "month", "tahun": "year", "year": "year"}
_N = r"(?P<n>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_B, _E = r"(?<!\w)", r"(?!\w)"  # word edges: "Mei" must not match inside "Meikarta"
_CUE = r"(?:(?P<cue>sejak|since|selama|during|pada|in|on)\s+)?"
_MONTH_WORD = ("(?P<mon>" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
               + r")(?!\w)\.?")
_BARE_MONTH = "(?P<mon>" + "|".join(sorted(FULL_MONTH_NAMES, key=len, reverse=True)) + ")"
_OPEN_ENDED = re.compile(r"(?:sejak|since)(?!\w)", re.I)
_SINCE_BEFORE = re.compile(r"(?<!\w)(?:sejak|since)\s+$", re.I)

# Week semantics. Calendar words ("minggu lalu", "last week", "minggu ini") name ISO
# calendar weeks, Monday to Sunday, as Indonesian and English news use them ("pekan
# lalu" is the previous Monday..Sunday). Rolling words ("seminggu terakhir", "7 hari
# terakhir", "past week", "in the last 7 days") name a window ending with as_of's day
# and starting at midnight on the same calendar day N units earlier; that includes
# the boundary day, erring towards recall, which matters more than precision for a filter.


def _shift(day: date, unit: str, n: int) -> date:
    """`day` moved n units back (forward if n < 0); a day of month is clamped (31 -> 28)."""
    if unit in ("day", "week"):
        return day - timedelta(days=n * (7 if unit == "week" else 1))
    months = day.year * 12 + day.month - 1 - n * (12 if unit == "year" else 1)
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _calendar(today: date, unit: str, n: int) -> tuple[date, date]:
    """The calendar day/week/month/year n units before the one holding `today`."""
    day = _shift(today, unit, n)
    start = {"day": day, "week": day - timedelta(days=day.weekday()),
             "month": day.replace(day=1), "year": day.replace(month=1, day=1)}[unit]
    return start, _shift(start, unit, -1)


def _rolling(today: date, unit: str, n: int) -> tuple[date, date]:
    return _shift(today, unit, n), today + timedelta(days=1)


def _count(g: dict[str, Any], default: int) -> int:
    if g.get("n"):
        return int(g["n"]) if g["n"].isdigit() else _NUMBERS[g["n"].lower()]
    return 1 if g.get("se") else default


def _plausible(year: int, today: date) -> bool:
    return 1900 <= year <= today.year + 1


Span = tuple[date | None, date | None]


def _days(g: dict, today: date) -> Span | None:
    return _calendar(today, "day", 2 if g["d2"] else 1 if g["d1"] else 0)


def _id_calendar(g: dict, today: date) -> Span | None:
    unit, counted = _UNITS[g["u"].lower()], bool(g["n"] or g["se"])
    if g["rel"].lower() == "ini":
        return None if counted else _calendar(today, unit, 0)
    if unit == "day" and not counted and g["rel"].lower() == "lalu":
        return None  # "beberapa hari lalu": too vague to pin down
    return _calendar(today, unit, _count(g, 1))


def _en_calendar(g: dict, today: date) -> Span | None:
    n = 0 if g.get("rel") and g["rel"].lower() == "this" else _count(g, 1)
    return _calendar(today, _UNITS[g["u"].lower()], n)


def _id_rolling(g: dict, today: date) -> Span | None:
    return _rolling(today, _UNITS[g["u"].lower()], _count(g, 1))


def _en_rolling(g: dict, today: date) -> Span | None:
    if g["w2"] and g["w2"].lower() == "last" and not g["n"]:
        return None  # plain "last week" is the calendar week, matched elsewhere
    return _rolling(today, _UNITS[g["u"].lower()], _count(g, 1))


def _absolute(g: dict, today: date) -> Span | None:
    """A full date, month + day, month + year, or a month alone."""
    word = g["mon"].lower()
    month, day = MONTH_NUMBERS[word], int(g["d"]) if g.get("d") else None
    year = int(g["y"]) if g.get("y") else None
    if day is None and year is None and word in ("may", "march") and not (
            g["cue"] or g.get("bulan")):
        return None  # the English verbs "may" and "march"
    if year is not None and not _plausible(year, today):
        return None
    try:
        if day is not None:
            # Without a year: the most recent such date on or before today.
            if year is None:
                year = today.year - (date(today.year, month, day) > today)
            start = date(year, month, day)
            return start, start + timedelta(days=1)
    except ValueError:  # 31 Februari
        return None
    if year is None:
        year = today.year - (month > today.month)
    start = date(year, month, 1)
    return start, _shift(start, "month", -1)


def _year(g: dict, today: date) -> Span | None:
    # A bare 4-digit number is a year only with a cue and a plausible value, so
    # "Rp 2017" or "1500 orang" are left alone.
    if not (g["cue"] or g["tahun"]) or not _plausible(year := int(g["y"]), today):
        return None
    return date(year, 1, 1), date(year + 1, 1, 1)


_UNIT_ID, _UNIT_EN = r"hari|minggu|pekan|bulan|tahun", r"day|week|month|year"
_PATTERNS: list[tuple[re.Pattern[str], Callable[[dict, date], Span | None]]] = [
    (re.compile(p, re.I), handler) for p, handler in (
        (rf"{_B}(?:(?P<d2>kemarin\s+lusa|(?:the\s+)?day\s+before\s+yesterday)"
         rf"|(?P<d1>kemarin|yesterday)|today){_E}", _days),
        (rf"{_B}(?:{_N}\s+|(?P<se>se))?(?P<u>{_UNIT_ID})\s+(?:yang\s+)?"
         rf"(?P<rel>lalu|kemarin|ini){_E}", _id_calendar),
        (rf"{_B}(?P<rel>last|previous|this)\s+(?P<u>week|month|year){_E}", _en_calendar),
        (rf"{_B}{_N}\s+(?P<u>{_UNIT_EN})s?\s+ago{_E}", _en_calendar),
        (rf"{_B}(?:(?:dalam|selama)\s+)?(?:{_N}\s+|(?P<se>se))(?P<u>{_UNIT_ID})\s+terakhir{_E}",
         _id_rolling),
        (rf"{_B}(?:(?:in|over|during|within)\s+)?(?:the\s+(?P<w1>past|last)|(?P<w2>past|last))"
         rf"\s+(?:{_N}\s+)?(?P<u>{_UNIT_EN})s?{_E}", _en_rolling),
        (rf"{_B}{_CUE}(?:(?:tanggal|tgl\.?)\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
         rf"{_MONTH_WORD}(?:,?\s+(?P<y>{YEAR_DIGITS}))?{_E}", _absolute),
        (rf"{_B}{_CUE}{_MONTH_WORD}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>{YEAR_DIGITS}))?{_E}",
         _absolute),
        (rf"{_B}{_CUE}(?P<bulan>bulan\s+)?{_MONTH_WORD},?\s+(?P<y>{YEAR_DIGITS}){_E}", _absolute),
        (rf"{_B}{_CUE}(?P<bulan>bulan\s+)?{_BARE_MONTH}{_E}", _absolute),
        (rf"{_B}{_CUE}(?:(?P<tahun>tahun|year)\s+)?(?P<y>{YEAR_DIGITS}){_E}", _year),
    )
]


def find_time_expression(query: str, as_of: datetime) -> DateRange | None:
    """The first (leftmost) time phrase in `query` as a half-open DateRange, or None.

    Bounds are midnights in as_of's own timezone. "sejak"/"since" before a phrase
    leaves the range open-ended (until=None). Raises ValueError for a naive `as_of`,
    whose bounds could not be compared with the aware dates of parse_published.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    today = as_of.date()
    best: tuple[int, int, Span] | None = None
    for pattern, handler in _PATTERNS:
        for match in pattern.finditer(query):
            span = handler(match.groupdict(), today)
            if span is None:
                continue  # rejected (e.g. "may" the verb): try the next match
            # Leftmost wins; on a tie the longest ("kemarin lusa" over "kemarin").
            if best is None or (match.start(), -match.end()) < (best[0], -best[1]):
                best = (match.start(), match.end(), span)
            break
    if best is None:
        return None
    start, end, (since, until) = best
    lead = _SINCE_BEFORE.search(query, 0, start)
    if lead:
        start = lead.start()
    phrase = query[start:end]
    if _OPEN_ENDED.match(phrase):
        until = None

    def at(day: date | None) -> datetime | None:
        return None if day is None else datetime.combine(day, time(), tzinfo=as_of.tzinfo)

    return DateRange(since=at(since), until=at(until), phrase=phrase)
