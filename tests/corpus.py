"""Deterministic test corpus for the indexer.

A plain helper module (not a test file): it writes a small folder of news
articles, good and bad, and returns what the indexer is expected to do with
each file.

    from tests.corpus import write_all
    expects = write_all(tmp_path)

Each good article carries a unique made-up marker word (a place name) so a
test can search the index for it:

    antara_style.txt    Lamboraya       kabar.md            Wirakanda
    batch.jsonl         Sumberlintang, Pramudita, Batuarsa
    halaman.html        Telukmaya       english.txt         Meranggi
    nested/dir/deep.txt Kedungrawit     cp1252.txt          Lembahsari
    utf16.txt           Tirtakencana    invalid_utf8.txt    Parangtirta

`Expect.reason` is a lowercase keyword that must occur in the skip reason the
indexer reports (see the comments in `write_bad_inputs`).

`must_not_contain` phrases never occur in the body text of any *other* file of
the corpus, so a test may check them against every indexed chunk.
"""

from __future__ import annotations

import codecs
import json
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Expect:
    path: str  # relative to the corpus root, "/"-separated
    indexed: int  # number of articles this file must yield (0 = skipped)
    reason: str | None  # for skipped files: lowercase keyword in the skip reason
    must_contain: tuple[str, ...] = ()  # phrases that must be in the indexed body text
    must_not_contain: tuple[str, ...] = ()  # phrases that must NOT be in any body text


def _write(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------
# Article texts
# --------------------------------------------------------------------------

ANTARA_TXT = """\
Makassar (ANTARA) - Pemerintah Kabupaten Lamboraya, Sulawesi Selatan, menargetkan produksi gabah kering giling mencapai 210 ribu ton pada musim panen raya tahun ini. Bupati Lamboraya Andi Mappasessu mengatakan luas tanam padi pada musim rendeng mencapai 38 ribu hektare, naik sekitar tujuh persen dibandingkan tahun lalu.

Menurut dia, kenaikan itu ditopang oleh perbaikan saluran irigasi sekunder di empat kecamatan yang rampung pada akhir 2022.

Baca juga: Harga gabah kering panen di Sidrap naik jadi Rp5.500 per kilogram

Dinas Pertanian setempat juga menyalurkan 1.200 ton pupuk bersubsidi dan 45 unit mesin panen kombinasi kepada kelompok tani. "Dengan mesin panen, kehilangan hasil bisa ditekan dari sepuluh persen menjadi sekitar tiga persen," kata Kepala Dinas Pertanian Lamboraya Nurhayati Said di Makassar, Kamis.

Ia menambahkan, Perum Bulog Cabang Lamboraya siap menyerap gabah petani sesuai harga pembelian pemerintah agar harga di tingkat petani tidak anjlok saat panen raya.

Lamboraya targetkan produksi gabah 210 ribu ton saat panen raya
2 Maret 2023 09:15 WITA
Foto: Petani memanen padi di Desa Bontomanai, Kabupaten Lamboraya, Sulawesi Selatan, Kamis (2/3/2023). ANTARA/Rahmat Hidayat
Pewarta: Suriani Mappong
Editor: Budi Santoso
Copyright © ANTARA 2023
Tags: panen raya, gabah, Lamboraya
"""

KABAR_MD = """\
---
title: "Pasar Digital Desa Wirakanda Dongkrak Penjualan UMKM"
date: 2023-03-05T10:00:00+07:00
source: Kabar Desa
url: https://www.kabardesa.example.com/2023/03/05/pasar-digital-wirakanda
author: Dewi Lestari
tags:
  - umkm
  - ekonomi digital
  - Wirakanda
---

# Pasar Digital Desa Wirakanda Dongkrak Penjualan UMKM

Warga Desa Wirakanda, Kabupaten Garut, Jawa Barat, kini memasarkan produk usaha kecil mereka melalui lapak daring yang dikelola badan usaha milik desa. Dalam tiga bulan pertama, omzet gabungan 60 pelaku UMKM desa itu naik hampir dua kali lipat.

## Produk paling laris

- Dodol susu dan keripik singkong pedas
- Kerajinan anyaman bambu untuk tempat tisu dan tudung saji
- Kopi arabika dari lereng Gunung Cikuray

Kepala Desa Wirakanda, Asep Saepudin, mengatakan pelatihan foto produk dan pengemasan menjadi kunci agar pembeli dari luar kota tertarik. Pesanan kini datang dari Jakarta, Surabaya, hingga Balikpapan. Informasi lengkap tersedia di [situs resmi desa](https://wirakanda.example.com/pasar).
"""

JSONL_GOOD = [
    {
        "id": "1677800401-banjir-rendam-ratusan-rumah-di-sumberlintang",
        "title": "Banjir rendam ratusan rumah di Sumberlintang",
        "date": "2023-03-03T07:30:00+07:00",
        "source": "kabarnusa",
        "url": "https://www.kabarnusa.example.com/berita/1677800401",
        "author": "Rina Kurniawati",
        "category": "tajuk utama",
        "text": (
            "Hujan deras yang mengguyur sejak Kamis malam membuat Sungai Cilawang meluap dan merendam "
            "ratusan rumah di Kecamatan Sumberlintang. Ketinggian air di permukiman warga mencapai satu "
            "meter pada Jumat pagi. Badan Penanggulangan Bencana Daerah mengerahkan perahu karet untuk "
            "mengevakuasi lansia dan anak-anak ke balai desa. Sebanyak 312 jiwa kini mengungsi dan "
            "membutuhkan selimut serta makanan siap saji. Petugas memperkirakan air baru surut dalam "
            "dua hari jika hujan tidak kembali turun."
        ),
    },
    {
        "id": "1677800402-tim-putri-jateng-juarai-kejurnas-bulu-tangkis",
        "title": "Tim putri Jawa Tengah juarai kejurnas bulu tangkis di GOR Pramudita",
        "date": "2023-03-04T21:10:00+07:00",
        "source": "sportivo",
        "url": "https://www.sportivo.example.com/bulutangkis/1677800402",
        "category": "olahraga",
        "text": (
            "Tim bulu tangkis putri Jawa Tengah keluar sebagai juara beregu kejuaraan nasional setelah "
            "menundukkan DKI Jakarta 3-1 di GOR Pramudita, Sabtu malam. Tunggal pertama Salsabila "
            "Putri membuka keunggulan lewat kemenangan rubber game 21-19, 18-21, 21-16. Pasangan ganda "
            "Nabila dan Ayu kemudian memastikan gelar dengan kemenangan dua gim langsung. Pelatih kepala "
            "Jawa Tengah menyebut kemenangan ini buah dari pemusatan latihan selama empat bulan."
        ),
    },
    {
        "id": "1677800403-inflasi-kota-batuarsa-februari-2023",
        "title": "Inflasi Kota Batuarsa pada Februari 2023 capai 0,42 persen",
        "date": "2023-03-01T13:45:00+07:00",
        "source": "ekonomika",
        "url": "https://www.ekonomika.example.com/makro/1677800403",
        "author": "Hendra Wijaya",
        "category": "ekonomi",
        "text": (
            "Badan Pusat Statistik mencatat inflasi bulanan Kota Batuarsa pada Februari 2023 sebesar "
            "0,42 persen. Kenaikan harga beras, cabai merah, dan tarif angkutan antarkota menjadi "
            "penyumbang utama inflasi. Secara tahunan, inflasi kota itu mencapai 5,1 persen, sedikit di "
            "atas rata-rata nasional. Pemerintah kota berencana menggelar operasi pasar murah di "
            "sebelas kelurahan menjelang bulan Ramadan."
        ),
    },
]

# A truncated record: not valid JSON.
JSONL_BROKEN = '{"id": "1677800404-jembatan-ambles", "title": "Jembatan Gunungwadas ambles", "text": "Jembatan penghubung dua desa'

JSONL_EMPTY_TEXT = {
    "id": "1677800405-pameran-lukisan",
    "title": "Pameran lukisan Kedungsepur dibuka",
    "date": "2023-03-02T10:00:00+07:00",
    "source": "kabarnusa",
    "url": "https://www.kabarnusa.example.com/berita/1677800405",
    "text": "",
}

HALAMAN_HTML = """\
<!DOCTYPE html>
<html lang="id">
<head>
  <meta charset="utf-8">
  <title>Pelabuhan Penyeberangan Telukmaya Mulai Beroperasi - KabarNusantara</title>
  <meta name="description" content="Pelabuhan penyeberangan Telukmaya mulai beroperasi.">
  <script>window.dataLayer = window.dataLayer || []; dataLayer.push({"pageType": "artikel"});</script>
  <script src="/static/js/iklan.js" async></script>
</head>
<body>
  <div id="cookie-banner" class="cookie">
    <p>Kami menggunakan cookie untuk meningkatkan pengalaman Anda.</p>
    <button>Setuju</button>
  </div>
  <header class="site-header">
    <a href="/" class="logo">KabarNusantara</a>
    <nav class="menu-utama">
      <ul>
        <li><a href="/">Beranda</a></li>
        <li><a href="/nasional">Nasional</a></li>
        <li><a href="/ekonomi">Ekonomi</a></li>
        <li><a href="/olahraga">Olahraga</a></li>
        <li><a href="/indeks">Indeks Berita Hari Ini</a></li>
        <li><a href="/langganan">Langganan Koran Digital</a></li>
      </ul>
    </nav>
  </header>
  <main>
    <article class="detail-berita">
      <h1>Pelabuhan Penyeberangan Telukmaya Mulai Beroperasi</h1>
      <div class="meta">
        <span class="penulis">Oleh Yohanes Pattiasina</span>
        <time datetime="2023-03-06T14:30:00+07:00">Senin, 6 Maret 2023 14:30 WIB</time>
      </div>
      <figure>
        <img src="/img/2023/03/telukmaya.jpg" alt="Kapal feri bersandar di Telukmaya">
        <figcaption>Kapal feri bersandar di dermaga baru Telukmaya.</figcaption>
      </figure>
      <p>Pelabuhan penyeberangan Telukmaya di Kabupaten Maluku Tengah resmi beroperasi pada Senin setelah pembangunannya tertunda hampir dua tahun. Pelabuhan ini menghubungkan pulau-pulau kecil di selatan Seram dengan Kota Ambon.</p>
      <p>Kepala Balai Pengelola Transportasi Darat Maluku, Frans Latuheru, mengatakan dermaga Telukmaya mampu melayani kapal feri berbobot hingga 1.000 gross tonnage. Dua kapal akan melayani lintasan ini setiap hari, pagi dan sore.</p>
      <p>Sebelum pelabuhan dibuka, warga harus menumpang perahu motor kayu selama lima jam dengan risiko ombak tinggi. Kini waktu tempuh ke Ambon dipangkas menjadi sekitar tiga jam.</p>
      <p>Pembangunan pelabuhan menelan anggaran Rp148 miliar dari APBN, termasuk terminal penumpang, lapangan parkir kendaraan, dan gedung tunggu berkapasitas 300 orang.</p>
      <p>Pedagang hasil bumi menyambut baik kehadiran pelabuhan tersebut. Mereka berharap ongkos kirim cengkih dan pala ke Ambon bisa turun hingga sepertiga.</p>
      <p>Pemerintah daerah menyiapkan tarif penumpang dewasa Rp65.000 untuk sekali jalan, sementara pelajar mendapat potongan separuh harga.</p>
    </article>
    <aside class="sidebar">
      <h2>Berita Terkait</h2>
      <ul>
        <li><a href="/nasional/kapal-perintis-baru">Kapal perintis baru layani rute Banda Neira</a></li>
        <li><a href="/ekonomi/harga-pala-naik">Harga pala kering naik jelang musim hujan</a></li>
        <li><a href="/nasional/cuaca-laut">Peringatan dini gelombang tinggi di Laut Seram</a></li>
      </ul>
    </aside>
  </main>
  <footer class="site-footer">
    <ul>
      <li><a href="/redaksi">Susunan Redaksi</a></li>
      <li><a href="/pedoman">Pedoman Media Siber</a></li>
      <li><a href="/kontak">Hubungi Kami</a></li>
    </ul>
    <p>Hak Cipta &copy; 2023 KabarNusantara. Seluruh hak dilindungi.</p>
  </footer>
  <script>document.getElementById("cookie-banner").hidden = localStorage.ok;</script>
</body>
</html>
"""

ENGLISH_TXT = """\
Volunteers Replant Coral Gardens off Meranggi Island
March 7, 2023

Volunteer divers have replanted more than 4,000 coral fragments on damaged reefs off Meranggi Island, a local conservation group said on Tuesday. The reef was badly bleached during a marine heatwave two years ago and later battered by blast fishing. Divers attach the fragments to steel frames coated with sand, which keeps them stable while they grow. Early surveys show that about 70 percent of the transplanted corals have survived their first six months. The group plans to train fishermen from nearby villages as reef guides so that they can earn money from snorkelling tours. Local officials have also banned anchoring inside the restoration zone.
"""

DEEP_TXT = """\
Perpustakaan Keliling Sambangi Sekolah di Kedungrawit
8 Maret 2023

Dinas Perpustakaan Kabupaten Banjarnegara mengoperasikan mobil perpustakaan keliling yang kini rutin menyambangi sekolah dasar di Desa Kedungrawit. Mobil itu membawa sekitar 1.500 buku cerita, ensiklopedia anak, dan buku pelajaran. Setiap kunjungan, murid boleh meminjam dua buku selama dua minggu. Kepala sekolah setempat mengatakan minat baca murid meningkat sejak layanan itu datang setiap Rabu. Dinas berencana menambah satu mobil lagi agar bisa menjangkau desa-desa di lereng pegunungan.
"""

CP1252_TXT = """\
Kafe Bergaya Prancis Hidupkan Kawasan Lembahsari
9 Maret 2023

BANDUNG — Sebuah café bergaya Prancis, “Le Petit Lembahsari”, resmi dibuka di kawasan Lembahsari, Bandung, pekan ini. Menu andalannya adalah crème brûlée dan croissant mentega yang dipanggang setiap pagi. Pemiliknya, René Sutanto, belajar membuat kue selama tiga tahun di Lyon. “Kami ingin café ini menjadi tempat bertemu warga, bukan sekadar tempat minum kopi,” ujarnya. Harga menu berkisar Rp25.000–Rp60.000 per porsi. Pengunjung yang datang pada akhir pekan harus antre hingga setengah jam.
"""

UTF16_TXT = """\
Festival Layang-Layang Tirtakencana Tarik Ribuan Pengunjung
10 Maret 2023

Festival layang-layang tahunan di Pantai Tirtakencana, Kabupaten Bantul, menarik lebih dari 12.000 pengunjung pada akhir pekan lalu. Sebanyak 140 peserta dari dalam dan luar negeri menerbangkan layang-layang berbentuk naga, kapal pinisi, dan burung garuda. Panitia menyebut angin laut yang stabil membuat layang-layang raksasa bisa bertahan di udara hingga berjam-jam. Pedagang makanan di sekitar pantai mengaku omzet mereka naik tiga kali lipat selama festival berlangsung.
"""

# Split around the stray bytes; every part is valid UTF-8 on its own.
INVALID_UTF8_PARTS = [
    "Harga Ikan di Pelelangan Parangtirta Turun\n11 Maret 2023\n\n"
    "Harga ikan tongkol di tempat pelelangan ikan Parangtirta turun hingga 30 persen karena "
    "hasil tangkapan nelayan melimpah.",
    " Ketua kelompok nelayan setempat mengatakan cuaca cerah selama sepekan membuat kapal bisa "
    "melaut setiap hari.",
    " Pedagang pengecer menjual tongkol segar seharga Rp22.000 per kilogram, lebih murah "
    "dibandingkan awal bulan.",
    " Dinas Kelautan dan Perikanan mengimbau nelayan menyimpan sebagian tangkapan di gudang "
    "pendingin agar harga tidak terus jatuh. Pemerintah desa juga menyiapkan pelatihan "
    "pengolahan ikan asap bagi istri nelayan.\n",
]
INVALID_UTF8_BYTES = [b" \xc3\x28", b"\xa0", b" \xc3\x28"]  # stray bytes between the parts

HUGE_SENTENCE = "Kalimat pengisi berkas besar ini diulang terus untuk menguji batas ukuran. "

NAV_ONLY_HTML = """\
<!DOCTYPE html>
<html lang="id">
<head><meta charset="utf-8"><title>Portal Warta Sepekan</title></head>
<body>
  <header><a href="/" class="logo">Warta Sepekan</a></header>
  <nav>
    <ul>
      <li><a href="/">Beranda</a></li>
      <li><a href="/daerah">Daerah</a></li>
      <li><a href="/gaya-hidup">Gaya Hidup</a></li>
      <li><a href="/terpopuler">Rubrik Terpopuler Sepekan</a></li>
    </ul>
  </nav>
  <div class="menu-samping">
    <ul>
      <li><a href="/arsip">Arsip</a></li>
      <li><a href="/video">Video</a></li>
      <li><a href="/foto">Foto</a></li>
    </ul>
  </div>
  <footer>
    <p>Tentang Kami | Karier di Warta Sepekan | Kebijakan Privasi</p>
    <p>&copy; 2023 Warta Sepekan</p>
  </footer>
</body>
</html>
"""


# --------------------------------------------------------------------------
# Good articles
# --------------------------------------------------------------------------


def _antara(root: Path) -> Expect:
    _write(root, "antara_style.txt", ANTARA_TXT)
    return Expect(
        "antara_style.txt", 1, None,
        must_contain=("Lamboraya", "saluran irigasi sekunder"),
        must_not_contain=("Baca juga", "Harga gabah kering panen di Sidrap", "Copyright", "Pewarta"),
    )


def _markdown(root: Path) -> Expect:
    _write(root, "kabar.md", KABAR_MD)
    return Expect(
        "kabar.md", 1, None,
        must_contain=("Wirakanda", "anyaman bambu"),
        must_not_contain=("author: Dewi Lestari",),  # front matter is metadata, not body
    )


def _jsonl(root: Path) -> Expect:
    good = [json.dumps(rec, ensure_ascii=False) for rec in JSONL_GOOD]
    lines = [good[0], JSONL_BROKEN, good[1], json.dumps(JSONL_EMPTY_TEXT, ensure_ascii=False), good[2]]
    _write(root, "batch.jsonl", "\n".join(lines) + "\n")
    return Expect(
        "batch.jsonl", 3, None,
        must_contain=("Sumberlintang", "Pramudita", "Batuarsa"),
        must_not_contain=("Gunungwadas", "Kedungsepur"),  # the broken and the empty record
    )


def _html(root: Path) -> Expect:
    _write(root, "halaman.html", HALAMAN_HTML)
    return Expect(
        "halaman.html", 1, None,
        must_contain=("Telukmaya", "dermaga Telukmaya mampu melayani kapal feri"),
        must_not_contain=(
            "Indeks Berita Hari Ini", "Langganan Koran Digital",  # nav menu
            "Berita Terkait", "Kapal perintis baru layani rute Banda Neira",  # sidebar
            "Kami menggunakan cookie",  # cookie banner
            "Pedoman Media Siber", "Hak Cipta",  # footer
            "dataLayer",  # script
        ),
    )


def _english(root: Path) -> Expect:
    _write(root, "english.txt", ENGLISH_TXT)
    return Expect("english.txt", 1, None, must_contain=("Meranggi", "blast fishing"))


def _nested(root: Path) -> Expect:
    _write(root, "nested/dir/deep.txt", DEEP_TXT)
    return Expect("nested/dir/deep.txt", 1, None, must_contain=("Kedungrawit", "perpustakaan keliling"))


def write_good_articles(root: Path) -> list[Expect]:
    """Write the well-formed articles under `root`; return their expectations."""
    root.mkdir(parents=True, exist_ok=True)
    return [_antara(root), _markdown(root), _jsonl(root), _html(root), _english(root), _nested(root)]


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------


def _png_bytes() -> bytes:
    """A valid 8x8 grey PNG (binary, full of NUL bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([i * 16] * 8) for i in range(8))  # filter byte + 8 pixels
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _ds_store_bytes() -> bytes:
    """Something shaped like a macOS .DS_Store (binary header, NUL padding)."""
    return b"\x00\x00\x00\x01Bud1" + b"\x00" * 24 + b"\x00\x00\x10\x00" + b"\x00" * 2012 + b"Iloc\x00\x00\x00\x00blob"


def _invalid_utf8_bytes() -> bytes:
    first, *rest = [p.encode("utf-8") for p in INVALID_UTF8_PARTS]
    return first + b"".join(stray + part for stray, part in zip(INVALID_UTF8_BYTES, rest))


def write_huge(path: Path, size_mb: int) -> None:
    """Write exactly `size_mb` MiB of repeated sentences, one MiB at a time."""
    sentence = HUGE_SENTENCE.encode("ascii")
    block = (sentence * (MB // len(sentence) + 1))[:MB]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        for _ in range(size_mb):
            f.write(block)


def write_bad_inputs(root: Path, big_file_mb: int = 50) -> list[Expect]:
    """Write the awkward inputs under `root`; return their expectations."""
    root.mkdir(parents=True, exist_ok=True)
    out: list[Expect] = []

    # reason "empty": zero bytes.
    _write(root, "empty.txt", b"")
    out.append(Expect("empty.txt", 0, "empty"))

    # reason "empty": whitespace only.
    _write(root, "blank.txt", b"   \n\t\t\n  \r\n\n \t \n")
    out.append(Expect("blank.txt", 0, "empty"))

    # reason "binary": PNG bytes behind a .txt extension.
    _write(root, "image.txt", _png_bytes())
    out.append(Expect("image.txt", 0, "binary", must_not_contain=("IHDR",)))

    # indexed: cp1252 (smart quotes, é, —, –) must be decoded as cp1252, not UTF-8
    # nor latin-1 (which would leave C1 controls \x93 \x94 \x97 in the text).
    _write(root, "cp1252.txt", CP1252_TXT.encode("cp1252"))
    out.append(Expect(
        "cp1252.txt", 1, None,
        must_contain=("café", "Lembahsari", "crème brûlée", "René Sutanto"),
        must_not_contain=("Ã©", "\x93", "\x94", "\x97"),
    ))

    # indexed: UTF-16 little-endian with a BOM.
    _write(root, "utf16.txt", codecs.BOM_UTF16_LE + UTF16_TXT.encode("utf-16-le"))
    out.append(Expect("utf16.txt", 1, None, must_contain=("Tirtakencana", "layang-layang berbentuk naga")))

    # indexed: UTF-8 with a few invalid byte sequences mid-text (no BOM at the start).
    _write(root, "invalid_utf8.txt", _invalid_utf8_bytes())
    out.append(Expect(
        "invalid_utf8.txt", 1, None,
        must_contain=("Parangtirta", "hasil tangkapan nelayan melimpah", "gudang pendingin"),
    ))

    # reason "hidden": dot-file (binary too, but hidden must win).
    _write(root, ".DS_Store", _ds_store_bytes())
    out.append(Expect(".DS_Store", 0, "hidden"))

    # reason "too large": above the 10 MB default limit.
    write_huge(root / "huge.txt", big_file_mb)
    out.append(Expect("huge.txt", 0, "too large", must_not_contain=("Kalimat pengisi berkas besar",)))

    # reason "no article text": menus and footer only.
    _write(root, "nav_only.html", NAV_ONLY_HTML)
    out.append(Expect(
        "nav_only.html", 0, "no article text",
        must_not_contain=("Rubrik Terpopuler Sepekan", "Karier di Warta Sepekan"),
    ))

    # reason "unsupported": extension not handled (zip magic + seeded random bytes).
    _write(root, "notes.docx", b"PK\x03\x04" + random.Random(20230301).randbytes(4096))
    out.append(Expect("notes.docx", 0, "unsupported"))

    # reason "no article text": a lone short line is not an article.
    _write(root, "only_title.txt", "Gempa Guncang Wonokerto\n")
    out.append(Expect("only_title.txt", 0, "no article text", must_not_contain=("Wonokerto",)))

    return out


def write_all(root: Path, big_file_mb: int = 50) -> list[Expect]:
    """Write the whole corpus (good and bad files) under `root`."""
    return write_good_articles(root) + write_bad_inputs(root, big_file_mb=big_file_mb)


# --------------------------------------------------------------------------
# Hostile inputs: one folder where every entry but the good articles tries to
# crash, hang or leak the indexer (see tests/test_hostile.py)
# --------------------------------------------------------------------------

# An article outside the folder; reached only through symlinks, it must never be indexed.
OUTSIDE_TXT = """\
Rahasia Dapur Desa Sukamurni Terbongkar
12 Maret 2023

Berkas ini berada di luar folder sumber dan hanya bisa dicapai lewat tautan simbolik. Jika kata Sukamurni muncul di indeks, pengindeks telah membaca berkas di luar folder yang diberikan kepadanya, dan itu tidak boleh terjadi.
"""

# A good article under a file name holding the byte 0xff (not UTF-8): indexed, its name escaped.
ODD_NAME = b"berita-\xff-ganjil.txt"
ODD_NAME_SHOWN = "berita-\\xff-ganjil.txt"
ODD_NAME_TXT = """\
Nelayan Tanjungwaru Panen Rumput Laut
13 Maret 2023

Kelompok nelayan di Desa Tanjungwaru, Kabupaten Sumba Timur, memanen 18 ton rumput laut kering pada pekan ini. Harga jual di tingkat petani mencapai Rp28.000 per kilogram, naik dibandingkan musim lalu. Ketua kelompok mengatakan sebagian hasil panen dikirim ke pabrik pengolahan di Surabaya.
"""

_BODY = ("Warga desa berkumpul di balai desa untuk membahas rencana pembangunan jalan baru yang "
         "menghubungkan kampung mereka dengan pasar kecamatan.")


def _front_matter_md(front_matter: str) -> str:
    return f"---\n{front_matter}\n---\n\n{_BODY}\n"


def write_hostile_inputs(root: Path, outside: Path, big_file_mb: int = 50) -> list[Expect]:
    """Write the hostile folder under `root` (and the canary article `outside/rahasia.txt`
    that links point to); return what the indexer must do with every entry.

    Paths of `.jsonl` lines are `file.jsonl:N`. Entries that are not regular files
    (links, a named pipe, a socket) are expected in the skip list like any other."""
    import os
    import socket

    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "rahasia.txt").write_text(OUTSIDE_TXT)
    out = [_antara(root), _markdown(root)]

    # The kinds the indexer already handled.
    _write(root, "empty.txt", b"")
    out.append(Expect("empty.txt", 0, "empty"))
    _write(root, "image.txt", _png_bytes())
    out.append(Expect("image.txt", 0, "binary"))
    _write(root, "nul_bytes.txt", ("Teks dengan byte nol\x00 di tengah\x00\x00 kalimat. " * 40).encode())
    out.append(Expect("nul_bytes.txt", 0, "binary"))
    write_huge(root / "huge.txt", big_file_mb)
    out.append(Expect("huge.txt", 0, "too large"))
    _write(root, "invalid_utf8.txt", bytes(random.Random(12).randrange(0x80, 0x100) for _ in range(2000)))
    out.append(Expect("invalid_utf8.txt", 0, "no article text"))
    _write(root, "nav_only.html", NAV_ONLY_HTML)
    out.append(Expect("nav_only.html", 0, "no article text"))
    _write(root, "bad_yaml.md", _front_matter_md('title: "unclosed\ndate: [2023'))
    out.append(Expect("bad_yaml.md", 0, "invalid yaml"))
    # Would run a command under yaml.load; yaml.safe_load must refuse the tag.
    _write(root, "python_tag.md", _front_matter_md(
        f"title: !!python/object/apply:os.system ['touch {root / 'PWNED'}']"))
    out.append(Expect("python_tag.md", 0, "invalid yaml"))

    # Parsers pushed past their limits: RecursionError before.
    _write(root, "deep_yaml.md", _front_matter_md("a: " + "[" * 5000 + "]" * 5000))
    out.append(Expect("deep_yaml.md", 0, "nested deeper"))
    deep_block = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "x"
    _write(root, "deep_block_yaml.md", _front_matter_md(deep_block))
    out.append(Expect("deep_block_yaml.md", 0, "nested deeper"))

    # Fields of the wrong type: TypeError before.
    _write(root, "number_title.md", _front_matter_md("title: 42"))
    out.append(Expect("number_title.md", 0, "'title' must be text"))
    _write(root, "list_title.md", _front_matter_md("title: [Judul, kedua]"))
    out.append(Expect("list_title.md", 0, "'title' must be text"))
    _write(root, "number_tags.md", _front_matter_md("title: Jalan baru\ntags: 7"))
    out.append(Expect("number_tags.md", 0, "'tags' must be"))
    _write(root, "date_mapping.md", _front_matter_md("title: Jalan baru\ndate: {tahun: 2023}"))
    out.append(Expect("date_mapping.md", 0, "'date' must be"))
    records = [
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"title": 12345, "text": _BODY}),
        json.dumps({"title": "Jalan baru", "tags": 99, "text": _BODY}),
        json.dumps({"title": "Jalan baru", "text": 3.14}),
        json.dumps({"title": "Jalan baru", "text": {"isi": _BODY}}),
        json.dumps({"title": "Jalan baru", "source": ["a", "b"], "text": _BODY}),
        '{"title": "Jalan baru", "text": "' + "9" * 5000 + '", "n": ' + "9" * 5000 + "}",
        '"just a string"',
    ]
    _write(root, "records.jsonl", "\n".join(records) + "\n")
    out.append(Expect("records.jsonl", 0, "no valid json lines"))
    for number, reason in enumerate(["nested deeper", "'title' must be text", "'tags' must be", "'text' must be text",
                                     "'text' must be text", "'source' must be text", "cannot be read",
                                     "not a json object"], start=1):
        out.append(Expect(f"records.jsonl:{number}", 0, reason))

    # Entries that are not regular files, and links.
    os.mkfifo(root / "pipe.txt")  # opening it would block the run forever
    out.append(Expect("pipe.txt", 0, "named pipe"))
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "socket.txt"))
    out.append(Expect("socket.txt", 0, "socket"))
    os.symlink(".", root / "loop")
    out.append(Expect("loop", 0, "symlink loop"))
    os.symlink("self.txt", root / "self.txt")
    out.append(Expect("self.txt", 0, "symlink loop"))
    os.symlink("missing.txt", root / "dangling.txt")
    out.append(Expect("dangling.txt", 0, "dangling symlink"))
    os.symlink("/etc/passwd", root / "passwd.txt")
    out.append(Expect("passwd.txt", 0, "points outside the source folder"))
    os.symlink("/etc", root / "etc")
    out.append(Expect("etc", 0, "points outside the source folder"))
    os.symlink(outside / "rahasia.txt", root / "rahasia.txt")
    out.append(Expect("rahasia.txt", 0, "points outside the source folder"))
    os.symlink(outside, root / "luar")
    out.append(Expect("luar", 0, "points outside the source folder"))
    os.symlink("/dev/zero", root / "zero.txt")
    out.append(Expect("zero.txt", 0, "device"))
    os.symlink("antara_style.txt", root / "alias.txt")  # the same article under a second name
    out.append(Expect("alias.txt", 0, "same file as"))
    _write(root, ".hidden.txt", ANTARA_TXT.replace("Lamboraya", "Tersembunyi"))
    out.append(Expect(".hidden.txt", 0, "hidden"))

    # A good article under a name that is not UTF-8: indexed under the escaped name.
    (root / os.fsdecode(ODD_NAME)).write_bytes(ODD_NAME_TXT.encode())
    out.append(Expect(ODD_NAME_SHOWN, 1, None, must_contain=("Tanjungwaru",)))
    return out
