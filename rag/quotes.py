"""What a quote shows beside itself and where it starts: pure functions on a sentence.

* `resolve_dates(sentence, published)` finds relative day words ("Sabtu", "kemarin",
  "pekan depan", "Sabtu (13/8)", "yesterday") and resolves them against the article's date,
  as text to show beside the verbatim quote: "Sabtu (13 Agustus 2022)".
* `dateline_end(sentence)` finds a leading dateline ("Jakarta (ANTARA) - ",
  "Jakarta, CNN Indonesia - - ", "Liputan6.com, Jakarta: ") so a quote can start after it.

Every span is an offset into the text given: the quote itself is never rewritten (issue 15).
Left out: times of day relative to the article's hour ("tadi pagi"), dates without a weekday
("13 Agustus" without a year), and weekdays more than a week from publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .dates import DEFAULT_TZ, month_name
from .slots import WEEKDAY_PATTERN

_WEEKDAYS_ID = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_INDEX = {**{w: i for i, w in enumerate(_WEEKDAYS_ID)}, **{w: i for i, w in enumerate(_WEEKDAYS_EN)},
                  "jum'at": 4, "jum’at": 4, "ahad": 6}
# ---------------------------------------------------------------- relative dates

@dataclass(frozen=True)
class DateNote:
    """A relative day word of a sentence (`sentence[start:end]`, verbatim) and what it
    means in the article's calendar: `resolved` is shown beside the quote."""

    start: int
    end: int
    phrase: str
    resolved: str
    day: date
    last_day: date
    """The same as `day` for a day; the last day of a week, month or year ("pekan lalu")."""


_RELATIVE = re.compile(
    rf"\b(?P<wd>{WEEKDAY_PATTERN})\b(?:\s*\((?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})(?:/(?P<y>\d{{2,4}}))?\))?"
    r"(?:\s+(?P<wdrel>lalu|depan|mendatang|kemarin))?"
    r"|\b(?P<rel>hari\s+ini|kemarin\s+lusa|kemarin|besok|lusa|today|yesterday|tomorrow)\b"
    r"|\b(?P<unit>pekan|minggu|bulan|tahun|week|month|year)\s+(?P<dir>lalu|depan|ini|mendatang|silam)\b"
    r"|\b(?P<endir>last|next|this)\s+(?P<enunit>week|month|year)\b", re.I)
_DAY_SHIFT = {"hari ini": 0, "today": 0, "kemarin": -1, "yesterday": -1, "kemarin lusa": -2, "besok": 1,
              "tomorrow": 1, "lusa": 2}
FUTURE_WINDOW_CHARS = 60
_FUTURE = re.compile(r"\b(?:akan|bakal|hendak|dijadwalkan|rencananya|will|is\s+to|are\s+to)\b", re.I)


def resolve_dates(sentence: str, published: datetime | date) -> list[DateNote]:
    """The relative day words of `sentence` resolved against the article's publication date
    (a datetime is read in WIB, the outlets' zone). A bare weekday is the latest such day on or
    before publication ("Sabtu" in a Saturday article is that day), or the next one after a
    future word ("akan ... Sabtu", "Sabtu mendatang"); "Sabtu (13/8)" takes its date from the
    brackets. Labels are Indonesian unless the word is English."""
    today = _local_day(published)
    notes = []
    for m in _RELATIVE.finditer(sentence):
        english = bool(re.match(r"[a-z]+", m.group(), re.I) and m.group().split()[0].lower() in
                       (*_WEEKDAYS_EN, "today", "yesterday", "tomorrow", "last", "next", "this", "week", "month",
                        "year"))
        if m["wd"]:
            if m["wd"][0].islower() and m["wd"].lower() == "minggu":
                continue  # "dua minggu" is a week, not a Sunday
            day = _weekday(m, today, sentence)
            if day is None:
                continue
            word = f"{m['wd']} {m['wdrel']}" if m["wdrel"] else m["wd"]  # "Sabtu (13/8)" -> "Sabtu (13 ...)"
            label, last = f"{word} ({_format_day(day, english)})", day
        elif m["rel"]:
            day = last = today + timedelta(days=_DAY_SHIFT[" ".join(m["rel"].lower().split())])
            label = f"{m['rel']} ({_format_day(day, english)})"
        else:
            unit = (m["unit"] or m["enunit"]).lower()
            direction = (m["dir"] or m["endir"]).lower()
            shift = {"lalu": -1, "silam": -1, "last": -1, "depan": 1, "mendatang": 1, "next": 1}.get(direction, 0)
            day, last, text = _period(unit, shift, today, english)
            label = f"{m.group()} ({text})"
        notes.append(DateNote(m.start(), m.end(), m.group(), label, day, last))
    return notes


def _local_day(published: datetime | date) -> date:
    if isinstance(published, datetime):
        return (published.astimezone(DEFAULT_TZ) if published.tzinfo else published).date()
    return published


def _weekday(m: re.Match[str], today: date, sentence: str) -> date | None:
    if m["d"]:  # "Sabtu (13/8)": the date in brackets, in the year that puts it nearest
        year = int(m["y"]) + (2000 if len(m["y"]) == 2 else 0) if m["y"] else today.year
        try:
            day = date(year, int(m["m"]), int(m["d"]))
            if not m["y"] and day - today > timedelta(days=183):
                day = day.replace(year=year - 1)
            elif not m["y"] and today - day > timedelta(days=183):
                day = day.replace(year=year + 1)
        except ValueError:
            return None
        return day
    target = _WEEKDAY_INDEX[m["wd"].lower().replace("’", "'")]
    rel = (m["wdrel"] or "").lower()
    # A future word in the same stretch of the sentence ("akan digelar Minggu"), not in an
    # earlier quote or clause ("... akan juara," kata Marcus, Jumat).
    clause = max(0, m.start() - FUTURE_WINDOW_CHARS)
    clause = max([clause, *(i + 1 for i in range(clause, m.start()) if sentence[i] in "\",;”")])
    future = rel in ("depan", "mendatang") or (not rel and _FUTURE.search(sentence, clause, m.start()) is not None)
    if future:
        return today + timedelta(days=(target - today.weekday()) % 7)  # "akan ... Minggu" on a Sunday: today
    back = (today.weekday() - target) % 7
    if rel in ("lalu", "kemarin") and back == 0:
        back = 7
    return today - timedelta(days=back)


def _period(unit: str, shift: int, today: date, english: bool) -> tuple[date, date, str]:
    if unit in ("pekan", "minggu", "week"):
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
        end = start + timedelta(days=6)
        joiner = " to " if english else " s.d. "
        return start, end, f"{_format_day(start, english)}{joiner}{_format_day(end, english)}"
    if unit in ("bulan", "month"):
        months = today.year * 12 + today.month - 1 + shift
        start = date(months // 12, months % 12 + 1, 1)
        following = date((months + 1) // 12, (months + 1) % 12 + 1, 1)
        return start, following - timedelta(days=1), f"{month_name(start.month, english)} {start.year}"
    start = date(today.year + shift, 1, 1)
    return start, date(start.year, 12, 31), str(start.year)


def _format_day(day: date, english: bool = False) -> str:
    """13 Agustus 2022 (or 13 August 2022)."""
    return f"{day.day} {month_name(day.month, english)} {day.year}"


# ---------------------------------------------------------------- datelines

_DATELINE = re.compile(
    r"(?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*)?\((?:ANTARA|Antara)(?:\s+News)?\)\s*[-–—]+\s*"
    r"|[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*\((?:[A-Z][\w.]*\s*){1,3}\)\s*[-–—]+\s*"
    r"|(?:[A-Z][A-Za-z.'’-]*(?:\s+[A-Za-z][A-Za-z.'’-]*){0,3},\s*)?(?:CNN\s+Indonesia|[A-Za-z0-9]+\.(?i:co\.id|com|co|net|id))"
    r"(?:,\s*[A-Z][A-Za-z]*(?:\s+[A-Z][A-Za-z]*){0,3})?\s*(?:[-–—]+\s*)+"
    r"|[A-Z]{3,}(?:\s+[A-Z]{2,}){0,2}\s*[-–—]+\s*"
    r"|[A-Za-z0-9]+\.(?i:co\.id|com|co|net|id),\s*[A-Z][A-Za-z]*(?:\s+[A-Z][A-Za-z]*){0,2}\s*[:\-–—]+\s*"
    r"|(?:Rimanews|Merdeka|Suara|Kumparan|VIVA|Tribunnews|Okezone|Detik|Tempo)\s*[-–—:]+\s*")


def dateline_end(sentence: str) -> int:
    """Where the text after a leading dateline starts (0 without one): "Jakarta (ANTARA) - ",
    "JAKARTA, KOMPAS.com - ", "Jakarta, CNN Indonesia - - ", "Liputan6.com, Jakarta: "."""
    m = _DATELINE.match(sentence)
    if m is None or m.end() >= len(sentence) or not sentence[m.end()].isalnum() and sentence[m.end()] not in "\"“'":
        return 0
    return m.end()


def without_dateline(text: str, start: int, end: int) -> tuple[int, int]:
    """The span text[start:end] with a leading dateline left out: a sub-span, same offsets."""
    return start + dateline_end(text[start:end]), end
