"""Articles added from the chat UI: checked, saved into the uploads folder, indexed in the background.

An upload is saved into `RAG_UPLOAD_DIR` (default `seeds/uploads/`, inside the default
source, so `rag index` keeps reading it) under a safe name, after the same checks as
`rag index` (type, `RAG_MAX_FILE_MB`, readable as an article); then `build_index` adds
that folder as a source and indexes what is new, in a thread, one job at a time. A file
that cannot be read is not kept, and comes back with its reason. Indexing from the UI
never removes articles: a run that would (its source files deleted meanwhile) stops with
the index unchanged, as `rag index` would without `--yes`.

Uploading is offered only when the UI cannot be reached by strangers: on loopback, or
with `RAG_AUTH`; `RAG_UPLOADS=0` turns it off. Left out: the Gradio wiring (webapp.py).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .articles import SUFFIXES, Skipped, read_path
from .errors import IndexLocked, NeedsConfirmation, RagError, SourceError
from .guards import is_loopback
from .settings import Settings
from .ui_text import counted

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "label": "Tambah artikel",
        "files": "Berkas artikel (.txt, .md, .html, .jsonl)",
        "button": "Tambahkan ke indeks",
        "hint": "Berkas disimpan di {folder} dan diindeks; maksimal {limit:g} MB per berkas.",
        "off": "Menambah artikel dimatikan di server ini.",
        "none": "Pilih dulu berkas artikel yang akan ditambahkan.",
        "busy": "Indeks sedang diperbarui; coba lagi setelah selesai.",
        "saving": "Memeriksa {files}…",
        "progress": "Mengindeks: {done} dari {total} artikel…",
        "done": "Selesai: {added} ditambahkan, {updated} diperbarui. Indeks kini memuat {articles}.",
        "nothing_new": "Tidak ada artikel baru: semua berkas sudah ada di indeks.",
        "skipped": "Dilewati:",
        "failed": "Gagal mengindeks: {error}",
        "confirm": "Indeks tidak diubah: pembaruan ini akan menghapus banyak artikel (berkasnya hilang dari "
                   "sumbernya). Periksa dengan `rag index --dry-run` di terminal.",
        "file_count": "{n} berkas",
        "n_articles": "{n} artikel",
    },
    "en": {
        "label": "Add articles",
        "files": "Article files (.txt, .md, .html, .jsonl)",
        "button": "Add to the index",
        "hint": "Files are saved in {folder} and indexed; at most {limit:g} MB a file.",
        "off": "Adding articles is turned off on this server.",
        "none": "Choose the article files to add first.",
        "busy": "The index is being updated; try again when it is done.",
        "saving": "Checking {files}…",
        "progress": "Indexing: {done} of {total} articles…",
        "done": "Done: {added} added, {updated} updated. The index now holds {articles}.",
        "nothing_new": "Nothing new: every file is already in the index.",
        "skipped": "Skipped:",
        "failed": "Indexing failed: {error}",
        "confirm": "The index was not changed: this update would remove many articles (their files are gone "
                   "from their source). Check with `rag index --dry-run` in a terminal.",
        "file_count": "{n} file|{n} files",
        "n_articles": "{n} article|{n} articles",
    },
}


def message(language: str, key: str, **values: Any) -> str:
    return TEXTS[language if language in TEXTS else "id"][key].format(**values)


# The reasons a file is skipped are written in English for logs and `rag index`; the
# common ones are shown in Indonesian in the Indonesian interface (the rest as they are).
_REASONS_ID = (
    (re.compile(r"unsupported file type (.+)"), "jenis berkas {0} tidak didukung"),
    (re.compile(r"empty file"), "berkas kosong"),
    (re.compile(r"too large \((.+?) MB > (.+?) MB, RAG_MAX_FILE_MB\)"), "terlalu besar ({0} MB > {1} MB, RAG_MAX_FILE_MB)"),
    (re.compile(r"already uploaded as (.+)"), "sudah diunggah sebagai {0}"),
    (re.compile(r"binary file.*"), "berkas biner (bukan teks)"),
    (re.compile(r"no article text.*"), "tidak ada teks artikel"),
    (re.compile(r"invalid YAML front matter.*"), "front matter YAML tidak valid"),
    (re.compile(r"cannot be read (.+)"), "tidak bisa dibaca {0}"),
)


def reason_text(reason: str, language: str) -> str:
    if language == "id":
        for pattern, template in _REASONS_ID:
            found = pattern.fullmatch(reason)
            if found:
                return template.format(*found.groups())
    return reason


def uploads_allowed(settings: Settings) -> bool:
    """Uploads change the index for everyone: only where strangers cannot reach the UI."""
    return settings.uploads and (is_loopback(settings.server_name) or bool(settings.auth))


def safe_name(name: str) -> str:
    """A file name for the uploads folder: the last path part, letters, digits, `.-_` only."""
    base = re.split(r"[\\/]", name)[-1]
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem if dot else base).strip("-._")[:80] or "artikel"
    return f"{stem}.{suffix.lower()}" if dot else stem


def save_uploads(files: Sequence[str | Path], folder: Path, max_file_mb: float,
                 original_names: Sequence[str] | None = None) -> tuple[list[Path], list[Skipped]]:
    """Check each uploaded file like `rag index` would and copy the good ones into `folder`.

    Returns (saved paths, skipped with reasons). A file whose content is already in the
    folder is not copied twice; a name already taken by other content gets a suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    skipped: list[Skipped] = []
    for i, upload in enumerate(files):
        upload = Path(upload)
        shown = original_names[i] if original_names else upload.name
        name = safe_name(shown)
        if Path(name).suffix.lower() not in SUFFIXES:
            skipped.append(Skipped(shown, f"unsupported file type {Path(name).suffix or '(none)'!r}"))
            continue
        problems: list[Skipped] = []
        if not read_path(upload, Path(name), max_file_mb, problems):  # never raises: a reason instead
            skipped.append(Skipped(shown, problems[-1].reason if problems else "no article text"))
            continue
        target = _free_target(folder, name, _digest(upload))
        if target.exists():
            skipped.append(Skipped(shown, f"already uploaded as {target.name}"))
            continue
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(upload, partial)
        partial.replace(target)
        saved.append(target)
    return saved, skipped


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_target(folder: Path, name: str, digest: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`... : the first that is free or already holds this content."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if not target.exists() or _digest(target) == digest:
            return target
    raise RagError(f"too many uploads named {name} in {folder}")


@dataclass
class UploadJob:
    """One upload being indexed; read by the UI while the thread runs."""

    saved: list[Path]
    skipped: list[Skipped]
    done: int = 0
    total: int = 0
    finished: threading.Event = field(default_factory=threading.Event)
    summary: Any = None
    error: RagError | Exception | None = None


class Uploader:
    """Saves uploads and indexes them in a background thread, one job at a time."""

    def __init__(self, settings: Settings, embedder: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        """Returns the embedder of the open index, so an upload does not load a second copy."""
        self._busy = threading.Lock()

    @property
    def allowed(self) -> bool:
        return uploads_allowed(self.settings)

    def start(self, files: Sequence[str | Path], original_names: Sequence[str] | None = None) -> UploadJob:
        """Save the good files and start indexing them; raises IndexLocked when a job runs."""
        if not self._busy.acquire(blocking=False):
            raise IndexLocked("an upload is being indexed")
        try:
            saved, skipped = save_uploads(files, self.settings.upload_dir, self.settings.max_file_mb, original_names)
            job = UploadJob(saved, skipped)
            threading.Thread(target=self._run, args=(job,), name="rag-upload", daemon=True).start()
        except BaseException:
            self._busy.release()
            raise
        return job

    def _run(self, job: UploadJob) -> None:
        from .indexer import build_index

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            if job.saved:
                embedder = self._embedder() if self._embedder else None
                job.summary = build_index(self.settings, add_sources=[self.settings.upload_dir], embedder=embedder,
                                          progress=False, on_progress=progress)
        except SourceError as err:  # another source is unavailable: the uploads were indexed all the same
            job.summary = err.summary
        except NeedsConfirmation as err:
            job.error = err
            self._discard(job)
        except Exception as err:  # shown in the UI; nothing was published
            job.error = err
            self._discard(job)
        finally:
            self._busy.release()
            job.finished.set()


    @staticmethod
    def _discard(job: UploadJob) -> None:
        """Files that were not indexed are not kept either, so a retry starts clean."""
        for path in job.saved:
            path.unlink(missing_ok=True)


def job_markdown(job: UploadJob, language: str, articles: int | None = None) -> str:
    """What the upload panel shows: progress while the job runs, then the outcome and skips."""
    lines = []
    if not job.finished.is_set():
        lines.append(message(language, "progress", done=job.done, total=job.total or len(job.saved)))
    elif isinstance(job.error, NeedsConfirmation):
        lines.append(message(language, "confirm"))
    elif isinstance(job.error, IndexLocked):
        lines.append(message(language, "busy"))
    elif job.error is not None:
        lines.append(message(language, "failed", error=job.error))
    elif job.summary is None or not (job.summary.added or job.summary.updated):
        if job.saved or not job.skipped:
            lines.append(message(language, "nothing_new"))
    else:
        lines.append(message(language, "done", added=counted(language, "n_articles", job.summary.added, TEXTS),
                             updated=counted(language, "n_articles", job.summary.updated, TEXTS),
                             articles=counted(language, "n_articles", articles, TEXTS) if articles is not None else "?"))
    if job.skipped:
        lines.append(message(language, "skipped"))
        lines += [f"- `{s.path}`: {reason_text(s.reason, language)}" for s in job.skipped]
    return "\n".join(lines)
