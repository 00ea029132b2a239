"""Unanswerable questions about the IndoSum corpus: the assistant must say the articles do not say.

`evals/unanswerable-indosum.jsonl` (one JSON object a line: id, question, lang,
topic_article_ids, why) holds 59 questions, 44 Indonesian and 15 English, about the 3,463
IndoSum articles (2016-08..2018-02). Each is on topic (it names people, events or
organisations that the corpus covers, so retrieval finds related articles) but asks for a
fact that no article gives:
  - an event after February 2018 (Novanto's verdict, Asian Games 2018 medals, Pilkada 2018
    winners, the 2018 Champions League final), where articles give only plans or targets;
  - a detail the articles leave out (a cost, a count, a height, a birth date, a price);
  - a false premise (Milla "fired" in 2017, Ahok "jailed" for Sumber Waras, Raisa's
    "cancelled" wedding).

How it was made: candidate questions were written from the corpus titles; each was searched
with BM25 (`rag.lexical.LexicalIndex` over title + text of every article) and the passages of
the top 5 articles on the asked fact were read. A question was kept only if none of them
answers it. `topic_article_ids` are 1-3 articles from the top 10 that are about the same
entity or event; `why` says what the articles do report instead.

`CUES` below gives, per question, a regex for the shape of an answer (for example
"Novanto ... divonis N tahun"). `--check` re-runs the search and prints, per question, the
top 3 titles and any cue match in the top 5 articles or anywhere in the corpus (none when
the set was made; a match means "re-read that article", not necessarily an answer).

    python -m evals.make_unanswerable --check [--articles PATH] [--set PATH] [--strict]

Exit status 1 when the file is malformed (fields, ids, lang), a topic article does not
exist, or a topic article is not in the top 10 for its question (the question is then not
on topic); with --strict, also when a cue matches. The index build takes ~20 s (stemming).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rag.lexical import LexicalIndex

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SET = ROOT / "evals" / "unanswerable-indosum.jsonl"
DEFAULT_ARTICLES = ROOT.parent / "shared" / "data" / "news" / "indosum-articles.jsonl"
FIELDS = ("id", "question", "lang", "topic_article_ids", "why")
TOP_TOPIC, TOP_CUE = 10, 5

# Answer-shape regexes, matched case-insensitively against title + text.
CUES: dict[str, str] = {
    "unans-001": r"novanto\W+(?:\w+\W+){0,8}?(?:divonis|dihukum|dijatuhi hukuman)\s+(?:\w+\s+){0,3}?\d+\s+tahun",
    "unans-002": r"(?:meraih|meraup|mengoleksi|total)\s+\d+\s+medali emas\W+(?:\w+\W+){0,6}?asian games",
    "unans-003": r"(?:memenangi|memenangkan|pemenang)\s+(?:pilkada|pilgub)\s+(?:jawa barat|jabar)\s+2018\s+(?:adalah|yakni)",
    "unans-004": r"(?:biaya|menghabiskan|dana)\W+(?:\w+\W+){0,8}?(?:resepsi|pernikahan)\W+(?:\w+\W+){0,6}?raisa",
    "unans-005": r"(?:biaya|ongkos)\s+perbaikan",
    "unans-006": r"mrt\W+(?:\w+\W+){0,15}?\d[\d.]*\s+penumpang",
    "unans-007": r"\d[\d.]*\s+(?:orang\s+)?(?:wisatawan|pengunjung)\W+(?:\w+\W+){0,10}?(?:air soda|aek rara)",
    "unans-008": r"pengobatan\W+(?:\w+\W+){0,8}?rp\s?[\d.,]+",
    "unans-009": r"(?:pengganti|menggantikan)\s+(?:luis\s+)?milla",
    "unans-010": r"golkar\W+(?:\w+\W+){0,10}?(?:meraih|memperoleh|mendapat)\s+\d+\s+kursi\W+(?:\w+\W+){0,6}?2019",
    "unans-011": r"jokowi\W+(?:\w+\W+){0,6}?(?:memilih|menggandeng|menunjuk)\W+(?:\w+\W+){0,6}?(?:cawapres|calon wakil presiden)",
    "unans-012": r"edy\W+(?:\w+\W+){0,6}?mundur\s+dari\s+(?:kursi\s+)?(?:ketua umum\s+)?pssi",
    "unans-013": r"edy\W+(?:\w+\W+){0,10}?(?:meraih|memperoleh|mendapat)\s+[\d,]+\s+persen\s+suara",
    "unans-014": r"sandiaga\W+(?:\w+\W+){0,6}?(?:mundur|mengundurkan diri)\s+dari\s+(?:jabatan\s+)?wakil gubernur",
    "unans-015": r"(?:juara|menjuarai|gelar)\s+all england\s+2018",
    "unans-016": r"(?:juara|menjuarai|merebut)\s+piala thomas\s+2018",
    "unans-017": r"maia\W+(?:\w+\W+){0,10}?(?:menikah|pernikahan|akad)\W+(?:\w+\W+){0,6}?irwan",
    "unans-018": r"zucchini\W+(?:\w+\W+){0,15}?\d+\s+kalori",
    "unans-019": r"hasil\s+(?:uji\s+)?(?:lab|laboratorium|forensik)\W+(?:\w+\W+){0,6}?(?:menunjukkan|menyimpulkan|menyebutkan|membuktikan)",
    "unans-020": r"andika\W+(?:\w+\W+){0,10}?(?:divonis|dihukum|dituntut)",
    "unans-021": r"(?:dwp|warehouse project)\W+(?:\w+\W+){0,15}?\d[\d.]*\s+(?:ribu\s+)?(?:pengunjung|penonton)",
    "unans-022": r"(?:finis|peringkat|posisi)\s+(?:di\s+)?(?:urutan\s+|posisi\s+|peringkat\s+)?(?:ke\W*)?\d+\W+(?:\w+\W+){0,8}?london",
    "unans-023": r"rossi\W+(?:\w+\W+){0,8}?(?:telah|sudah|akhirnya)\s+(?:menjajal|mencoba)",
    "unans-024": r"roda tiga\W+(?:\w+\W+){0,15}?rp\s?[\d.,]+",
    "unans-025": r"kuda\W+(?:\w+\W+){0,12}?rp\s?[\d.,]+",
    "unans-026": r"(?:penyebab|disebabkan)\W+(?:\w+\W+){0,4}?(?:jatuhnya|kecelakaan)\W+(?:\w+\W+){0,4}?(?:adalah|yakni|karena)",
    "unans-027": r"sannakji\W+(?:\w+\W+){0,15}?(?:rp|won|\$)\s?[\d.,]+",
    "unans-028": r"istri(?:nya)?\W+(?:\w+\W+){0,3}?zulkifli|zulkifli\W+(?:\w+\W+){0,10}?istri",
    "unans-029": r"\d[\d.]*\s+(?:orang\s+)?(?:mahasiswa|pelajar|peserta)\W+(?:\w+\W+){0,10}?(?:kuliah umum|oxford)",
    "unans-030": r"inggris\W+(?:\w+\W+){0,6}?(?:tersingkir|melaju|lolos)\s+(?:ke|di)\s+(?:babak\s+)?(?:semifinal|perempat final|final|16 besar)\s+piala dunia 2018",
    "unans-031": r"(?:taksi|blue bird)\W+(?:\w+\W+){0,40}?(?:berat|seberat)\s+[\d.,]+\s*(?:kg|kilogram|gram)",
    "unans-032": r"(?:menyalakan|menyulut)\s+(?:api\s+)?(?:kaldron|obor)",
    "unans-033": r"htc\W+(?:\w+\W+){0,20}?[\d.,]+\s+(?:juta\s+|ribu\s+)?(?:kali\s+)?(?:unduhan|diunduh)",
    "unans-034": r"spectre\W+(?:\w+\W+){0,40}?\d[\d.,]*\s*(?:wh|mah)\b",
    "unans-035": r"sheeran\W+(?:\w+\W+){0,30}?cincin\W+(?:\w+\W+){0,10}?(?:seharga|harga)|cincin\W+(?:\w+\W+){0,10}?(?:seharga|harga)\W+(?:\w+\W+){0,30}?sheeran",
    "unans-036": r"crayon pop\W+(?:\w+\W+){0,12}?(?:bertajuk|berjudul)",
    "unans-037": r"sharapova\W+(?:\w+\W+){0,6}?(?:resmi\s+)?(?:pensiun|gantung raket)",
    "unans-038": r"juara dunia\s+(?:motogp\s+)?2018\s+(?:adalah|yakni)",
    "unans-039": r"egy\W+(?:\w+\W+){0,15}?kontrak\W+(?:\w+\W+){0,8}?(?:senilai|rp|euro|€)",
    "unans-040": r"milla\W+(?:\w+\W+){0,15}?gaji|gaji\W+(?:\w+\W+){0,15}?milla",
    "unans-041": r"(?:memecat|dipecat|pemecatan)\W+(?:\w+\W+){0,4}?milla|milla\W+(?:\w+\W+){0,4}?dipecat",
    "unans-042": r"sumber waras\W+(?:\w+\W+){0,15}?(?:divonis|dihukum|vonis)",
    "unans-043": r"\d[\d.]*\s+(?:unit\s+)?rumah\W+(?:\w+\W+){0,6}?(?:terendam|terdampak)",
    "unans-044": r"final\W+(?:\w+\W+){0,6}?2018\W+(?:\w+\W+){0,10}?liverpool",
    "unans-045": r"(?:raisa|hamish)\W+(?:\w+\W+){0,15}?(?:anak|putri|putra)\s+pertama|raisa\W+(?:\w+\W+){0,5}?(?:hamil|melahirkan)|(?:hamil|melahirkan)\W+(?:\w+\W+){0,5}?raisa",
    "unans-046": r"kim jong un\W+(?:\w+\W+){0,10}?bertemu\W+(?:\w+\W+){0,4}?trump",
    "unans-047": r"(?:menggantikan|pengganti)\s+louis\s+c\W*k",
    "unans-048": r"ginting\W+(?:\w+\W+){0,20}?(?:tinggi badan|\d{3}\s*cm)|(?:tinggi badan|bertinggi)\W+(?:\w+\W+){0,20}?ginting",
    "unans-049": r"google\W+(?:\w+\W+){0,6}?(?:menyuntikkan|mengucurkan|menginvestasikan|berinvestasi)\W+(?:\w+\W+){0,6}?(?:us)?\$\s?[\d.,]+",
    "unans-050": r"igbonefo\W+(?:\w+\W+){0,10}?(?:mencetak|mengemas)\s+\d+\s+gol",
    "unans-051": r"budi\W+(?:\w+\W+){0,10}?(?:lahir|kelahiran)",
    "unans-052": r"\d[\d.]*\s+(?:ribu\s+)?penonton\W+(?:\w+\W+){0,10}?katy",
    "unans-053": r"ahok\W+(?:\w+\W+){0,6}?(?:bebas|dibebaskan|keluar)\s+(?:dari\s+)?(?:penjara|rutan|mako brimob)",
    "unans-054": r"dalai lama\W+(?:\w+\W+){0,6}?(?:telah|sudah)\s+bertemu",
    "unans-055": r"raisa\W+(?:\w+\W+){0,6}?batal|batal\W+(?:\w+\W+){0,6}?raisa",
    "unans-056": r"ronaldo\W+(?:\w+\W+){0,10}?(?:mencetak|mengemas)\s+\d+\s+gol\W+(?:\w+\W+){0,6}?piala dunia 2018",
    "unans-057": r"ronaldo\W+(?:\w+\W+){0,20}?(?:tinggi badan|\d{3}\s*cm)|(?:tinggi badan|bertinggi)\W+(?:\w+\W+){0,20}?ronaldo",
    "unans-058": r"ballon d.or\s+2018",
    "unans-059": r"bulan madu\W+(?:\w+\W+){0,15}?(?:raisa|hamish)|(?:raisa|hamish)\W+(?:\w+\W+){0,15}?bulan madu",
}


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def validate(rows: list[dict]) -> list[str]:
    """Problems with the file itself: fields, unique sequential ids, lang, cue present."""
    problems = []
    for n, row in enumerate(rows, 1):
        rid = row.get("id", f"line {n}")
        if tuple(row) != FIELDS:
            problems.append(f"{rid}: fields {tuple(row)} != {FIELDS}")
        if row.get("id") != f"unans-{n:03d}":
            problems.append(f"{rid}: expected id unans-{n:03d}")
        if row.get("lang") not in ("id", "en"):
            problems.append(f"{rid}: lang must be 'id' or 'en'")
        if not 1 <= len(row.get("topic_article_ids") or []) <= 3:
            problems.append(f"{rid}: needs 1-3 topic_article_ids")
        if rid not in CUES:
            problems.append(f"{rid}: no cue in CUES")
    return problems


def snippet(text: str, match: re.Match[str], width: int = 60) -> str:
    return " ".join(text[max(0, match.start() - width):match.end() + width].split())


def check(rows: list[dict], articles: list[dict]) -> tuple[int, int]:
    """Print one block per question; return (topic failures, cue matches)."""
    texts = [f"{a['title']}\n{a['text']}" for a in articles]
    index = LexicalIndex.build(texts, [a["id"] for a in articles])
    position = {doc_id: i for i, doc_id in enumerate(index.ids)}
    failures = cue_hits = 0
    for row in rows:
        top = [doc for doc, _ in index.search(row["question"], TOP_TOPIC)]
        cue = re.compile(CUES.get(row["id"], r"(?!)"), re.IGNORECASE)
        print(f"{row['id']} [{row['lang']}] {row['question']}")
        for rank, doc in enumerate(top[:3], 1):
            print(f"    {rank}. {articles[doc]['title']}")
        for topic in row["topic_article_ids"]:
            if topic not in position:
                failures += 1
                print(f"    FAIL topic {topic}: not in the corpus")
            elif position[topic] not in top:
                failures += 1
                print(f"    FAIL topic {topic}: not in the top {TOP_TOPIC}")
        hits = [(doc, m) for doc in top[:TOP_CUE] if (m := cue.search(texts[doc]))]
        elsewhere = [(doc, m) for doc, text in enumerate(texts)
                     if doc not in top[:TOP_CUE] and (m := cue.search(text))]
        for doc, m in hits + elsewhere:
            print(f"    CUE in {articles[doc]['id']}: ...{snippet(texts[doc], m)}...")
        cue_hits += len(hits) + len(elsewhere)
        topics_ok = all(position.get(t) in top for t in row["topic_article_ids"])
        print(f"    topics {'in top ' + str(TOP_TOPIC) if topics_ok else 'MISSING'}; "
              f"answer cue: {len(hits)} in top {TOP_CUE}, {len(elsewhere)} elsewhere")
    return failures, cue_hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.make_unanswerable",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="re-run the searches and verify the set")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--strict", action="store_true", help="also fail when an answer cue matches")
    args = parser.parse_args(argv)
    rows = load_jsonl(args.set)
    langs = {lang: sum(r.get("lang") == lang for r in rows) for lang in ("id", "en")}
    print(f"{len(rows)} questions ({langs['id']} id, {langs['en']} en) in {args.set}")
    problems = validate(rows)
    for problem in problems:
        print(f"INVALID {problem}")
    if not args.check:
        return 1 if problems else 0
    failures, cue_hits = check(rows, load_jsonl(args.articles))
    print(f"\nsummary: {len(rows)} questions, {len(problems)} file problems, "
          f"{failures} topic ids missing from the corpus or the top {TOP_TOPIC}, {cue_hits} answer-cue matches")
    return 1 if problems or failures or (args.strict and cue_hits) else 0


if __name__ == "__main__":
    sys.exit(main())
