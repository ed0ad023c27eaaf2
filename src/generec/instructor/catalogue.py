"""The catalogue's own vocabulary: its tags, and the title words that belong to one tag.

The parser grounds what users say onto these (`ParseContext.vocabulary`, `ParseContext.terms`),
so an imported catalogue on cooking, football and guitar is understood in its own words, not
through a table written for the benchmark's ten concepts:

- tags: every tag of a human item that is not a style word, most used first;
- terms: a title word w belongs to tag c when most items whose title has w carry c,
  count(w, c) / count(w) >= `min_share`, and c is the only such tag ("messi" -> football);
- a catalogue without tags uses its most frequent title words as the vocabulary.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from generec.instructor.guidance import STYLE_VOCABULARY
from generec.instructor.sanitize import CONTROL_WORDS
from generec.instructor.tokens import word_forms
from generec.instructor.vocabulary import STOP_WORDS
from generec.types import Item, Origin

_WORD = re.compile(r"[a-z][a-z']+")


@dataclass(frozen=True)
class CatalogueConfig:
    min_share: float = 0.75  # of the items whose title has a word, the share that must carry its tag
    max_terms: int = 2000
    max_title_vocabulary: int = 200  # tag-less catalogues: this many title words at most


@dataclass(frozen=True)
class CatalogueVocabulary:
    tags: tuple[str, ...]  # the concepts, most used first
    terms: tuple[tuple[str, str], ...]  # (title word, tag)
    from_titles: bool = False  # no item has a tag: the vocabulary is title words


def title_words(title: str) -> list[str]:
    """The words of a title that may name a topic."""
    return [
        w for w in dict.fromkeys(_WORD.findall(title.lower()))
        if len(w) > 2 and w not in STOP_WORDS and w not in CONTROL_WORDS and w not in STYLE_VOCABULARY
    ]  # fmt: skip


def catalogue_vocabulary(items: Iterable[Item], config: CatalogueConfig | None = None) -> CatalogueVocabulary:
    cfg = config or CatalogueConfig()
    tag_count: Counter[str] = Counter()
    word_count: Counter[str] = Counter()
    word_tag: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        tags = [t.lower() for t in item.tags if t.lower() not in STYLE_VOCABULARY]
        tag_count.update(dict.fromkeys(tags, 1))
        for w in title_words(item.title):
            word_count[w] += 1
            word_tag[w].update(dict.fromkeys(tags, 1))
    if not tag_count:
        ranked = sorted(word_count.items(), key=lambda kv: (-kv[1], kv[0]))[: cfg.max_title_vocabulary]
        return CatalogueVocabulary(tuple(w for w, _ in ranked), (), from_titles=bool(ranked))
    tags = tuple(t for t, _ in sorted(tag_count.items(), key=lambda kv: (-kv[1], kv[0])))
    tag_forms = {f for t in tags for f in word_forms(t)}
    terms: list[tuple[str, str]] = []
    for w, n in sorted(word_count.items(), key=lambda kv: (-kv[1], kv[0])):
        if w in tag_forms or any(f in tag_forms for f in word_forms(w)):
            continue
        owners = [t for t, c in word_tag[w].items() if c / n >= cfg.min_share]
        if len(owners) == 1:
            terms.append((w, owners[0]))
        if len(terms) >= cfg.max_terms:
            break
    return CatalogueVocabulary(tags, tuple(terms))


_CATALOGUES: dict[tuple[str, int], dict[str, Any]] = {}
_CATALOGUE_LOCK = threading.Lock()


def catalogue_items(ws: Workspace) -> dict[str, Any]:
    """The catalogue's (human) items by id, re-read when the number of human items changes
    (catalogue items are only ever added; AI items made meanwhile do not force a re-read)."""
    key = (str(ws.root), int(ws.db.scalar("SELECT COUNT(*) FROM items WHERE origin = 'human'")))
    with _CATALOGUE_LOCK:
        found = _CATALOGUES.get(key)
    if found is not None:
        return found
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
    with _CATALOGUE_LOCK:
        _CATALOGUES.clear()
        _CATALOGUES[key] = items
    return items
