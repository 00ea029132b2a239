"""Find near-duplicate articles: the same wire story republished by several outlets.

Each article becomes a set of hashed word 5-gram shingles; MinHash signatures and
locality-sensitive hashing propose candidate pairs, and a pair is a duplicate when the
estimated Jaccard similarity of the shingle sets is at least `threshold`. Groups are
the connected components, named after their earliest (smallest id) member.

Left out: cross-lingual duplicates (a story and its translation) and partial overlaps
(an article quoting another), which are different stories for a reader.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

_WORD = re.compile(r"\w+")
_PERMUTATIONS = 64
_BANDS = 16  # 16 bands of 4 rows: pairs at Jaccard 0.8 collide with probability > 0.99
_rng = np.random.default_rng(20221308)
_A = _rng.integers(1, 1 << 63, size=_PERMUTATIONS, dtype=np.uint64) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 1 << 63, size=_PERMUTATIONS, dtype=np.uint64)


def shingles(text: str, size: int = 5) -> np.ndarray:
    """Hashes of the text's word `size`-grams (a rolling combination of per-word CRCs)."""
    words = np.fromiter((zlib.crc32(w.encode()) for w in _WORD.findall(text.lower())), dtype=np.uint64)
    if len(words) < size:
        words = np.concatenate([words, np.zeros(size - len(words), dtype=np.uint64)])
    grams = np.zeros(len(words) - size + 1, dtype=np.uint64)
    for offset in range(size):  # uint64 arithmetic wraps, which is fine for hashing
        grams = grams * np.uint64(1_000_003) + words[offset:len(words) - size + 1 + offset]
    return np.unique(grams)


def signature(text: str) -> np.ndarray:
    """MinHash signature: per hash function, the smallest hash over the shingles."""
    values = shingles(text)
    # Multiply-shift hashing: uint64 arithmetic wraps, the high bits are well mixed.
    hashed = (np.outer(values, _A) + _B) >> np.uint64(32)
    return hashed.min(axis=0)


def duplicate_groups(texts: Mapping[str, str], threshold: float = 0.8) -> dict[str, str]:
    """Map every id that has near-duplicates to its group's id; singletons are left out."""
    ids = sorted(texts)
    signatures = {i: signature(texts[i]) for i in ids}
    rows = _PERMUTATIONS // _BANDS
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for band in range(_BANDS):
        buckets: dict[bytes, list[str]] = defaultdict(list)
        for i in ids:
            buckets[signatures[i][band * rows:(band + 1) * rows].tobytes()].append(i)
        for members in buckets.values():
            for other in members[1:]:
                a, b = find(members[0]), find(other)
                if a != b and np.mean(signatures[members[0]] == signatures[other]) >= threshold:
                    parent[max(a, b)] = min(a, b)
    groups = {i: find(i) for i in ids}
    sizes: dict[str, int] = defaultdict(int)
    for root in groups.values():
        sizes[root] += 1
    return {i: root for i, root in groups.items() if sizes[root] > 1}
