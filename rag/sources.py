"""The sources an index is built from, and the plan of what a run changes in each.

An index records its sources (article folders or files, as absolute paths) in its
manifest. `rag index` re-reads every recorded source; `--source X` adds X to them;
`--forget X` drops X and the articles indexed from it. The rules that keep a user's
articles safe live here, in one place for the CLI, Python and the chat UI:

  - a source that is missing, unreadable, or suddenly empty (an unmounted drive) is an
    error for that source alone: none of its articles are removed, the others update;
  - an article is removed only when the source it came from was read and its file is
    gone (a file that is still there but cannot be read now keeps its article);
  - a run that would remove more than half of the index, or more than
    `CONFIRM_ABOVE` articles, needs confirmation (`Plan.needs_confirmation`).

What this module leaves out: parsing files (articles.py) and writing the index (indexer.py).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .articles import Article, Skipped, read_sources
from .errors import SourceError

CONFIRM_ABOVE = 100
"""Removing more articles than this in one run asks first, whatever the index's size."""


def absolute(path: str | Path) -> str:
    """The form a source or an article's file is recorded in: absolute, normalised, links kept
    (a source that is a link to a mount stays that link)."""
    return os.path.abspath(os.path.expanduser(str(path)))


def shown(path: str | Path) -> str:
    """A recorded path as the user would type it: relative when under the working folder."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative  # type: ignore[return-value]


def owner(path: str, sources: Iterable[str]) -> str | None:
    """The most specific of `sources` that holds the file `path` (both absolute), if any."""
    best = None
    for source in sources:
        if (path == source or path.startswith(source.rstrip(os.sep) + os.sep)) and (best is None or len(source) > len(best)):
            best = source
    return best


def without_nested(sources: Sequence[str]) -> list[str]:
    """`sources` in order, less those inside another one (their files are read there)."""
    unique = list(dict.fromkeys(sources))
    return [s for s in unique if owner(s, [o for o in unique if o != s]) is None]


@dataclass
class SourceRead:
    """One source as read now: its articles and skips, or why it could not be read."""

    path: str
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None


def read_source(path: str, max_file_mb: float, indexed_before: int, follow_symlinks: bool = False) -> SourceRead:
    """Read one source, turning what would look like "every article deleted" into an error."""
    where = Path(path)
    if not where.exists():
        hint = _near_miss(where)
        return SourceRead(path, error="not found" + (f" (did you mean {shown(hint)}?)" if hint else ""))
    if not os.access(where, os.R_OK | (os.X_OK if where.is_dir() else 0)):
        return SourceRead(path, error="cannot be read (permission denied)")
    try:
        result = read_sources([where], max_file_mb, follow_symlinks=follow_symlinks)
    except OSError as err:
        return SourceRead(path, error=f"cannot be read ({err.strerror or err})")
    read = SourceRead(path, result.articles, result.skipped)
    if indexed_before and not read.articles and not read.skipped:
        read.error = (f"is empty, but {_articles(indexed_before)} were indexed from it (a drive not mounted?); "
                      f"to drop them: rag index --forget {shown(path)}")
    return read


def _near_miss(path: Path) -> Path | None:
    """A sibling whose name is close to a mistyped one (`mynewz` for `mynews`)."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        names = [p.name for p in parent.iterdir() if not p.name.startswith(".")]
    except OSError:
        return None
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
    return parent / close[0] if close else None


def _articles(n: int) -> str:
    return f"{n} article" + ("" if n == 1 else "s")


@dataclass
class SourcePlan:
    """What a run does to one source's articles."""

    path: str
    state: str
    """`indexed` (read now), `new` (added by this run), `error` (a recorded source that could not
    be read: kept as it was), `forgotten`."""
    error: str | None = None
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    kept: int = 0
    """Articles left as they were because their source or file could not be read."""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "state": self.state, "error": self.error, "added": self.added,
                "updated": self.updated, "removed": self.removed, "unchanged": self.unchanged, "kept": self.kept}

    def line(self) -> str:
        if self.state == "forgotten":
            return f"{shown(self.path)}: forgotten, {self.removed} removed"
        counts = (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                  f"{self.unchanged} unchanged" + (f", {self.kept} kept" if self.kept else ""))
        if self.error:
            return f"{shown(self.path)}: error: {self.error}" + (f"; {self.kept} kept as they were" if self.kept else "")
        return f"{shown(self.path)}{' (new)' if self.state == 'new' else ''}: {counts}"


@dataclass
class Plan:
    """The whole change a run would make, before anything is written."""

    sources: list[SourcePlan]
    recorded: list[str]
    """The sources the index records after the run."""
    wanted: dict[str, Article]
    """Every article read now (one per id and content), changed or not."""
    changed: list[Article]
    removed: list[str]
    kept: list[str]
    """Ids of stored articles kept although they were not read (source or file unavailable)."""
    orphans: list[str]
    """Ids of stored articles under no recorded source (an index from an older rag): kept."""
    skipped: list[Skipped]
    stored_count: int

    @property
    def errors(self) -> list[SourcePlan]:
        return [s for s in self.sources if s.error]

    @property
    def needs_confirmation(self) -> bool:
        removed = len(self.removed)
        return removed > CONFIRM_ABOVE or (removed > 0 and removed * 2 > self.stored_count)

    def describe(self) -> list[str]:
        lines = [source.line() for source in self.sources]
        if self.orphans:
            lines.append(f"(no recorded source): {_articles(len(self.orphans))} kept; "
                         "`rag sources` lists their folders, `rag index --forget PATH` drops them")
        return lines

    def removal_warning(self) -> str:
        return (f"this run would remove {_articles(len(self.removed))} of the {self.stored_count} in the index "
                f"({'; '.join(s.line() for s in self.sources if s.removed)})")


def plan_run(
    stored: Mapping[str, Mapping[str, Any]],
    recorded: Sequence[str],
    add: Sequence[str],
    forget: Sequence[str],
    reads: Mapping[str, SourceRead],
    dedupe: Any,
) -> Plan:
    """Compare what is stored with what was read now, source by source.

    `recorded`, `add` and `forget` are absolute paths; `reads` has a `SourceRead` for every
    source of `recorded + add` that is not forgotten. `dedupe(articles)` returns
    (articles by id, skipped duplicates)."""
    for path in forget:
        inside = owner(path, [s for s in recorded if s != path])
        if path not in recorded and (inside or any(owner(s, [path]) for s in recorded)):
            raise SourceError(f"cannot forget {shown(path)}: it is {'inside' if inside else 'around'} the recorded source "
                              f"{shown(inside or next(s for s in recorded if owner(s, [path])))}; "
                              "forget that source, or remove the files and run `rag index`")
        if path not in recorded and not any(owner(absolute(r.get("path") or ""), [path]) for r in stored.values()):
            raise SourceError(f"cannot forget {shown(path)}: it is not a source of this index "
                              "(`rag sources` lists them)")
    keep_recorded = [s for s in recorded if s not in forget]
    new = [s for s in add if s not in keep_recorded]
    readable = [s for s in without_nested(keep_recorded + new) if reads[s].error is None]
    failed = {s for s in keep_recorded + new if s in reads and reads[s].error is not None}
    wanted, duplicates = dedupe([a for s in readable for a in reads[s].articles])
    unreadable_files = {absolute(sk.path) for s in readable for sk in reads[s].skipped}

    every = without_nested(keep_recorded + new + list(forget))
    plans = {s: SourcePlan(s, "forgotten" if s in forget else "new" if s in new else "indexed") for s in every}
    for s in failed:  # a recorded source keeps its articles; a new one is simply not added
        plans[s].state, plans[s].error = ("error" if s in keep_recorded else "new", reads[s].error)
    removed: list[str] = []
    kept: list[str] = []
    orphans: list[str] = []
    for aid, record in stored.items():
        home = owner(absolute(record.get("path") or ""), every)
        plan = plans.get(home) if home else None
        if plan is None:
            if aid not in wanted:
                orphans.append(aid)  # from no recorded source: only `--forget PATH` removes it
            continue
        if plan.state == "forgotten":
            removed.append(aid)
            plan.removed += 1
        elif plan.error is not None or (aid not in wanted and absolute(record.get("path") or "") in unreadable_files):
            kept.append(aid)
            plan.kept += 1
        elif aid not in wanted:
            removed.append(aid)
            plan.removed += 1
    changed = []
    for aid, article in wanted.items():
        plan = plans[owner(absolute(article.path), every) or readable[0]]
        if aid not in stored:
            plan.added += 1
        elif stored[aid].get("hash") != article.content_hash:
            plan.updated += 1
        else:
            plan.unchanged += 1
            continue
        changed.append(article)
    kept = [aid for aid in kept if aid not in wanted]  # read from another source now: the new copy wins
    recorded_after = [s for s in keep_recorded + new if s not in failed or s in keep_recorded]
    skipped = [sk for s in readable for sk in reads[s].skipped] + duplicates
    return Plan(sources=list(plans.values()), recorded=without_nested(recorded_after), wanted=wanted,
                changed=changed, removed=removed, kept=kept, orphans=orphans, skipped=skipped, stored_count=len(stored))
