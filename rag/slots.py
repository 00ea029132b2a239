"""What a factoid question asks for, and where a sentence holds it: pure functions on text.

`asked_slot(question)` reads the slot a question asks: a count of which head noun ("Berapa
orang yang mengungsi ...": people, not houses), or a time of which event ("Kapan ...
diresmikan?"). `match_slot(slot, sentence)` finds the sentence's candidates of that slot
(numbers with the noun after them, time expressions) and scores how well each is tied to the
asked noun or event words: `slot_match` in [0, 1] and the best candidate's character span,
an offset into the sentence so that a quote stays verbatim (issue 15). What a quote shows
beside itself (resolved dates) and where it starts (after the dateline) is in quotes.py.

Left out: parsing (the noun and the event are read from word positions, not a syntax tree),
spelled-out numbers of more than two words, and questions that ask neither a count nor a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from .dates import MONTH_NAMES, MONTH_NUMBERS
from .lexical import QUESTION_WORDS, STOPWORDS_EN, STOPWORDS_ID, analyze

# ---------------------------------------------------------------- words

_WORD = re.compile(r"US\$|\w+(?:(?:-|(?<=\d)[.,:/](?=\d)|['’](?=\w))\w+)*%?|[$€£%]|[^\w\s]")
_NUMERAL = re.compile(r"\d+(?:[.,]\d+)*%?$")
_NUMBER_WORDS = frozenset(
    "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas seratus seribu sejuta "
    "puluhan ratusan ribuan jutaan belasan one two three four five six seven eight nine ten eleven "
    "twelve hundred thousand dozens hundreds thousands".split())
_MULTIPLIERS = frozenset("ribu juta miliar milyar triliun million billion trillion thousand".split())
_NUMBER_PARTS = frozenset("puluh belas ratus".split())  # "tujuh puluh lokasi"
_CURRENCY = frozenset("rp rp. us$ $ € £ usd idr eur".split())
_MONEY_NOUNS = frozenset("rupiah dolar dollar euro yen ringgit pound poundsterling won yuan rp".split())
# What a number can count, by class: an asked noun of a class accepts any noun of it.
_CLASSES = {
    "people": frozenset(
        "orang jiwa warga korban penduduk penumpang personel pengungsi pasien siswa murid mahasiswa peserta "
        "pekerja karyawan buruh anggota tersangka pelaku pemain penonton pengunjung wisatawan tentara prajurit "
        "polisi petugas relawan kk keluarga pemudik calon people persons person victims residents passengers "
        "members workers players".split()),
    "money": _MONEY_NOUNS | _CURRENCY,
    "age": frozenset("tahun years year".split()),
    "percent": frozenset("persen % percent".split()),
    "size": frozenset("inci inch cm mm meter m km kilometer".split()),
    "capacity": frozenset("gb tb mb mah liter watt mw gw".split()),
    "magnitude": frozenset("sr skala magnitudo".split()),
    "weight": frozenset("kg kilogram gram ton".split()),
}
_ATTRIBUTES = {  # the asked word names a measure, not the counted thing
    "money": "harga biaya nilai tarif dana uang anggaran gaji modal investasi kerugian denda mahar banderol "
             "laba pendapatan pendanaan utang transfer omzet price cost worth fee fine salary budget".split(),
    "age": "usia umur age old".split(),
    "percent": "persen persentase pertumbuhan share percentage percent".split(),
    "size": "ukuran panjang lebar tinggi jarak luas large big long far tall".split(),
    "capacity": "kapasitas daya capacity".split(),
    "magnitude": "kekuatan magnitude".split(),
    "weight": "berat bobot heavy weight".split(),
}
_ATTRIBUTE_CLASS = {word: cls for cls, words in _ATTRIBUTES.items() for word in words}
_CLASSIFIERS = frozenset("unit buah ekor biji lembar batang butir pasang kali".split())
_SKIP_AFTER_BERAPA = frozenset("banyak jumlah total besar rata-rata kira-kira sekitar".split())
_EN_NOUNS = {"people": "orang", "houses": "rumah", "homes": "rumah", "times": "kali", "goals": "gol",
             "countries": "negara", "units": "unit", "days": "hari", "years": "tahun", "matches": "laga",
             "games": "laga", "points": "poin", "seats": "kursi", "victims": "korban", "cars": "mobil",
             "vehicles": "kendaraan", "buildings": "bangunan", "schools": "sekolah", "villages": "desa"}
_EN_AUXILIARIES = frozenset("did do does were was are is have has had will would could can in of at on from "
                           "to by who that which".split())
_CLAUSE_BREAKS = frozenset(", ; : dan serta sedangkan sementara namun tetapi ketika setelah sebelum sesudah "
                           "lalu kemudian and but while after before when".split())
# Verbs that only say an event took place: the event is the noun beside them.
# (Their stems: digelar diadakan dilakukan dilaksanakan berlangsung terjadi diselenggarakan.)
_LIGHT_VERBS = frozenset("gelar ada laku laksana langsung jadi selenggara".split())
_NOT_NOUNS = _CLAUSE_BREAKS | STOPWORDS_ID | STOPWORDS_EN | {"per", "x", "lebih", "hingga", "sampai"}
_NOT_VERBS = frozenset("menteri direktur dinas diri dirut pertama bersama terhadap tersebut merupakan terakhir "
                       "termasuk terkait menurut melalui mengenai bertepatan".split())
_VERB = re.compile(r"(?:me|di|ber|ter|per)\w{3,}$")


class _Token(NamedTuple):
    """A word of `text` at [start, end), and its lower case (read often, so kept)."""
    text: str
    start: int
    end: int
    low: str


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]


def _stems(word: str) -> frozenset[str]:
    return frozenset(analyze(word))


def _is_number(token: _Token) -> bool:
    return bool(_NUMERAL.match(token.text)) or token.low in _NUMBER_WORDS


# ---------------------------------------------------------------- the asked slot

_TIME_QUESTION = re.compile(
    r"\b(?:kapan\w*|tertanggal\s+berapa|^\s*(?:since\s+|until\s+)?when"
    r"|(?:pada\s+)?(?:tanggal|tgl|hari|bulan|tahun|pukul|jam|abad)\s+(?:berapa|apa)"
    r"|what\s+(?:time|year|date|day|month)|which\s+(?:year|day|month))\b", re.I)
_COUNT_QUESTION = re.compile(r"\b(?:berapa\w*|how\s+(?:many|much|old|large|big|long|far|tall|heavy)"
                             r"|what\s+(?:share|percentage|proportion))\b", re.I)
_GRAIN = (("clock", re.compile(r"\b(?:pukul|jam)\s+berapa|what\s+time|\bwhat\s+local\s+time", re.I)),
          ("year", re.compile(r"\btahun\s+(?:berapa|apa)|\b(?:what|which)\s+year", re.I)),
          ("month", re.compile(r"\bbulan\s+(?:berapa|apa)|\b(?:what|which)\s+month", re.I)),
          ("date", re.compile(r"\b(?:tanggal|tgl|hari)\s+(?:berapa|apa)|\bwhat\s+(?:date|day)", re.I)))
_TIME_QUESTION_WORDS = frozenset("kapan kapankah tertanggal tanggal tgl hari bulan tahun pukul jam abad sejak sampai hingga "
                                 "paling lambat when time year date day month since until".split())


@dataclass(frozen=True)
class AskedSlot:
    """What a question asks: `kind` "count" (a number of `nouns`, or of a `measure` class:
    people, money, age, percent) or "time" (of the `event` words, at `grain`: clock, year,
    month, date, or any). `event` holds the question's other content stems, the words the
    candidate must sit next to."""

    kind: str
    nouns: frozenset[str] = frozenset()
    measure: str | None = None
    grain: str = "any"
    event: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    """The event's verbs ("diresmikan", "bermula"): they weigh double, names half."""
    names: frozenset[str] = frozenset()
    given: frozenset[str] = frozenset()
    """The question's own words: a candidate made only of them ("Tour 2018") is no answer."""


def asked_slot(question: str) -> AskedSlot | None:
    """The slot `question` asks, or None when it asks no count or time ("Siapa ...?")."""
    if _TIME_QUESTION.search(question):
        grain = next((name for name, pattern in _GRAIN if pattern.search(question)), "any")
        words = [t.low for t in _tokens(question) if t.low not in _TIME_QUESTION_WORDS]
        verbs, names, given = _roles(question)
        return AskedSlot("time", grain=grain, event=_content(" ".join(words)), verbs=verbs, names=names, given=given)
    found = _COUNT_QUESTION.search(question)
    if not found:
        return None
    tokens = [t for t in _tokens(question) if t.text[0].isalnum() or t.text in "%"]
    at = next(i for i, t in enumerate(tokens) if t.start >= found.start())
    asked = found.group().lower().split()
    nouns: list[str] = []
    measure = {"old": "age", "much": "money", "share": "percent", "percentage": "percent",
               "proportion": "percent"}.get(asked[-1])
    if asked[0].startswith("berapa"):
        after = [t.low for t in tokens[at + 1:at + 4] if t.low not in _SKIP_AFTER_BERAPA]
        if not after:  # "korban ada berapa?": the noun comes first
            after = [t.low for t in tokens[max(0, at - 3):at] if t.low not in ("ada", "sebanyak", "yang")][-1:]
        nouns = after[:2] if after and after[0] in _CLASSIFIERS | _CLASSES["age"] else after[:1]
        before = [t.low for t in tokens[max(0, at - 2):at] if t.low in _ATTRIBUTE_CLASS]
        if before:  # "dalam usia berapa"
            nouns = before[-1:]
    elif asked[-1] == "many":
        phrase = []
        for t in tokens[at + 2:at + 6]:
            if t.low in _EN_AUXILIARIES:
                break
            phrase.append(t.low)
        # The head noun is in the phrase before the verb; only a known one can match Indonesian text.
        head = next((w for w in phrase if w in _EN_NOUNS), None)
        if head:
            nouns = [_EN_NOUNS[head]]
            asked = [*asked, head]
    for word in nouns[:1]:
        measure = measure or _ATTRIBUTE_CLASS.get(word) or next(
            (cls for cls, members in _CLASSES.items() if word in members and cls != "money"), None)
    noun_stems = frozenset(s for w in nouns for s in _stems(w))
    rest = " ".join(t.low for t in tokens if t.low not in asked)
    verbs, names, given = _roles(question)
    return AskedSlot("count", nouns=noun_stems, measure=measure, event=_content(rest) - noun_stems,
                     verbs=verbs, names=names, given=given)


def _roles(question: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The question's verb stems, name stems, and lowercased words."""
    tokens = _tokens(question)
    verbs = {s for t in tokens if _VERB.match(t.low) and t.low not in _NOT_VERBS for s in _stems(t.text)}
    verbs -= _LIGHT_VERBS
    names = {s for t in tokens[1:] if t.text[0].isupper() for s in _stems(t.text)}
    return frozenset(verbs), frozenset(names - verbs), frozenset(t.low for t in tokens)


def _content(text: str) -> frozenset[str]:
    return frozenset(analyze(text)) - QUESTION_WORDS


# ---------------------------------------------------------------- candidates in a sentence

@dataclass(frozen=True)
class SlotCandidate:
    """A number with its noun, or a time expression: `sentence[start:end]`, scored."""

    start: int
    end: int
    text: str
    score: float
    """slot_match of this candidate: how surely it is what the slot asks, in [0, 1]."""


@dataclass(frozen=True)
class SlotMatch:
    slot_match: float
    """The best candidate's score; 0 when the sentence holds no candidate of the slot."""
    candidate: SlotCandidate | None
    candidates: tuple[SlotCandidate, ...]
    """All candidates of the slot's type, best first."""


def match_slot(slot: AskedSlot, sentence: str) -> SlotMatch:
    """Score `sentence`'s candidates for `slot`; offsets are into `sentence`."""
    tokens = _tokens(sentence)
    spans = _times(sentence, tokens) if slot.kind == "time" else _counts(tokens)
    scored = []
    for (first, last, noun), near in zip(spans, _proximities(slot, tokens, spans)):
        if slot.kind == "time":
            fit = _grain_fit(slot.grain, sentence[tokens[first].start:tokens[last].end])
        else:
            fit = _noun_fit(slot, noun)
        score = fit * ((0.4 + 0.6 * near) if slot.kind == "time" else (0.6 + 0.4 * near))
        start, end = tokens[first].start, tokens[last].end
        if all(t.low in slot.given or not t.text[0].isalnum() for t in tokens[first:last + 1]):
            score *= 0.3  # the question's own "2018" or "11 tahun": not what it asks
        scored.append(SlotCandidate(start, end, sentence[start:end], round(score, 4)))
    scored.sort(key=lambda c: (-c.score, c.start))
    best = scored[0] if scored else None
    return SlotMatch(best.score if best else 0.0, best, tuple(scored))


def _counts(tokens: list[_Token]) -> list[tuple[int, int, list[str]]]:
    """(first token, last token, noun words) of each number that counts or measures something."""
    found = []
    i = 0
    while i < len(tokens):
        first = i
        if tokens[i].low in _CURRENCY and i + 1 < len(tokens) and _is_number(tokens[i + 1]):
            i += 1
        if not _is_number(tokens[i]) or _is_time_number(tokens, i) or (i and tokens[i - 1].low == "salah"):
            i = first + 1
            continue
        last = i
        while last + 1 < len(tokens) and (tokens[last + 1].low in _MULTIPLIERS | _NUMBER_PARTS
                                          or tokens[last + 1].text == "%"):
            last += 1
        nouns: list[str] = [tokens[first].low] if first < i else []  # "Rp" is money
        nouns += [t.low for t in tokens[i + 1:last + 1] if t.low not in _NUMBER_PARTS]
        j = last + 1
        close = next((k for k in range(j + 2, min(j + 5, len(tokens))) if tokens[k].text == ")"), None)
        if j < len(tokens) and tokens[j].text == "(" and close is not None:
            j = close + 1  # "30 (tiga puluh) hari"
        if j < len(tokens) and tokens[j].text[0].isalpha() and tokens[j].low not in _NOT_NOUNS:
            nouns.append(tokens[j].low)
            last = j
            if tokens[j].low in _CLASSIFIERS and j + 1 < len(tokens) and tokens[j + 1].text[0].isalpha():
                nouns.append(tokens[j + 1].low)  # "2.560 unit mobil"
        if tokens[i].text.endswith("%"):
            nouns.append("%")
        found.append((first, last, nouns))
        i = last + 1
    return found


def _is_time_number(tokens: list[_Token], i: int) -> bool:
    """A number that is part of a date, a clock time or a year, not a count."""
    before = tokens[i - 1].low if i else ""
    after = tokens[i + 1].low if i + 1 < len(tokens) else ""
    text = tokens[i].text
    if "/" in text or ":" in text or before in ("pukul", "jam", "pkl", "tanggal", "tgl"):
        return True
    if after in MONTH_NUMBERS or before in MONTH_NUMBERS or after in ("wib", "wita", "wit"):
        return True
    if not re.fullmatch(r"(?:19|20)\d\d", text):
        return False
    # A year unless a noun follows ("2017 orang"): a year cue, or a function word, verb or
    # punctuation next to it, keeps it a year.
    if before in ("tahun", "pada", "sejak", "hingga", "sampai", "akhir", "awal", "musim", "in", "since", "until"):
        return True
    return not (after[:1].isalpha() and after not in _CLAUSE_BREAKS and after not in STOPWORDS_ID
                and not _VERB.match(after))


def _noun_fit(slot: AskedSlot, nouns: list[str]) -> float:
    nouns = [w for w in nouns if w not in _MULTIPLIERS]  # "900 ribu" is a bare number
    stems = {s for w in nouns for s in _stems(w)} | {w for w in nouns if w in ("%",)}
    classes = {cls for cls, members in _CLASSES.items() if any(w in members for w in nouns)}
    if slot.nouns & stems:
        return 1.0
    if slot.measure and slot.measure in classes:
        return 0.85
    if not nouns:
        return 0.3  # a bare number: could be anything
    if not slot.nouns and not slot.measure:
        return 0.5  # nothing known about what is counted
    if slot.measure:
        return 0.1  # a number of something else: "340 rumah" for "berapa orang"
    return 0.25  # another noun, neither of a known class: perhaps a synonym


def _proximities(slot: AskedSlot, tokens: list[_Token], spans: list[tuple[int, int, list[str]]]) -> list[float]:
    """How close the event words sit to each candidate, in [0, 1]: each word counts by its
    nearest occurrence, 1 next to the candidate and less with distance; crossing a clause break
    or another verb costs as much as three words, so a time or number of another event loses.
    An occurrence nearer to another candidate of the sentence counts half: in "psikotes yang
    digelar pada Senin (22/5) dan tes kesehatan pada Selasa (23/5)" the tes kesehatan is
    Selasa's."""
    event = slot.event
    if not event:
        return [1.0] * len(spans)
    stems = [_stems(t.text) & event for t in tokens]
    reach = [_reach(tokens, stems, first, last) for first, last, _ in spans]
    owner: dict[int, float] = {}
    for found in reach:
        for j, value in found.items():
            owner[j] = max(owner.get(j, 0.0), value)
    weight = {s: 2.0 if s in slot.verbs else 0.5 if s in slot.names else 1.0 for s in event}
    out = []
    for found in reach:
        best = dict.fromkeys(event, 0.0)
        for j, value in found.items():
            credit = value if value >= owner[j] else value / 2
            for s in stems[j]:
                best[s] = max(best[s], credit)
        out.append(sum(best[s] * weight[s] for s in best) / sum(weight.values()))
    return out


def _reach(tokens: list[_Token], stems: list[frozenset[str]], first: int, last: int) -> dict[int, float]:
    """Position -> closeness (1 / (1 + distance / 3)) of the event words around tokens[first..last]."""
    found: dict[int, float] = {}
    for direction, start in ((-1, first - 1), (1, last + 1)):
        distance = 0.0
        j = start
        while 0 <= j < len(tokens) and distance < 12:
            if stems[j]:
                found[j] = 1.0 / (1.0 + distance / 3.0)
            low = tokens[j].low
            if low in _CLAUSE_BREAKS or _VERB.match(low) and low not in _NOT_VERBS and not stems[j]:
                distance += 3.0
            elif tokens[j].text[0].isupper() or not tokens[j].text[0].isalnum():
                distance += 0.5  # a name or a bracket: "di GOR Universitas Negeri Yogyakarta (UNY)"
            else:
                distance += 1.0
            j += direction
    return found


# ---------------------------------------------------------------- time expressions

WEEKDAY_PATTERN = r"(?:senin|selasa|rabu|kamis|jum['’]?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
MONTH_PATTERN = "(?:" + "|".join(sorted(MONTH_NAMES | {"agt", "okt", "sept"},
                                   key=len, reverse=True)) + ")"
_TIME_PARTS = re.compile(
    rf"\b{WEEKDAY_PATTERN}\b(?:\s*\(\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\))?(?:\s+(?:pagi|siang|sore|malam)(?:\s+WIB)?)?"
    rf"|\b\d{{1,2}}(?:\s*(?:[-–]|hingga|sampai|s\.d\.?)\s*\d{{1,2}})?\s+{MONTH_PATTERN}\b(?:\s+\d{{4}})?(?:\s+(?:lalu|mendatang))?"
    rf"|\b(?:bulan\s+)?{MONTH_PATTERN}\s+(?:\d{{4}}|tahun\s+(?:lalu|depan|ini))"
    rf"|\bbulan\s+{MONTH_PATTERN}\b(?:\s+(?:lalu|depan|mendatang|ini))?|\b{MONTH_PATTERN}\s+\d{{1,2}}(?:,\s*\d{{4}})?"
    r"|\(\d{1,2}/\d{1,2}(?:/\d{2,4})?\)"
    r"|\b(?:pukul|jam|pkl\.?)\s*\d{1,2}(?:[.:]\d{2})?(?:\s*(?:WIB|WITA|WIT|waktu\s+setempat))?"
    r"|\b\d{1,2}[.:]\d{2}\s*(?:WIB|WITA|WIT)\b"
    r"|\b(?:hari\s+ini|kemarin(?:\s+lusa)?|besok|lusa|tadi\s+(?:pagi|siang|sore|malam)|semalam|today|yesterday"
    r"|tomorrow|tonight|(?:pekan|minggu|bulan|tahun|week|month|year)\s+(?:lalu|depan|ini|mendatang|silam)"
    r"|(?:last|next|this)\s+(?:week|month|year)|akhir\s+pekan|(?:pengujung|akhir|awal)\s+musim(?:\s+(?:ini|nanti|lalu|depan))?)\b"
    r"|\b(?:pada|tahun|sejak|hingga|sampai|in|since|until)\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\b", re.I)
_JOIN = re.compile(r"[\s,]*(?:(?:pukul|pada|hingga|sampai|dan|-|–)\s*)?(?:(?:pagi|siang|sore|malam)\s*)?$", re.I)


def _times(sentence: str, tokens: list[_Token]) -> list[tuple[int, int, list[str]]]:
    """(first token, last token, []) of each time expression, adjacent parts joined
    ("Senin (15/1) pukul 17.00 WIB" is one)."""
    spans: list[list[int]] = []
    for m in _TIME_PARTS.finditer(sentence):
        if spans and _JOIN.match(sentence[spans[-1][1]:m.start()]) and m.start() - spans[-1][1] <= 12:
            spans[-1][1] = m.end()
        else:
            spans.append([m.start(), m.end()])
    out: list[tuple[int, int, list[str]]] = []
    for start, end in spans:
        inside = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
        if inside:
            out.append((inside[0], inside[-1], []))
    return out


def _grain_fit(grain: str, text: str) -> float:
    """Whether a time expression is of the asked grain: a clock time for "pukul berapa"."""
    tests = {"clock": r"\d[.:]\d\d|pukul|jam", "year": r"\b(?:19|20)\d\d\b|tahun\s+(?:lalu|depan|ini)",
             "month": MONTH_PATTERN + r"|bulan", "date": r"\d|" + WEEKDAY_PATTERN}
    if grain == "any":
        return 1.0
    return 1.0 if re.search(tests[grain], text, re.I) else 0.4
