"""Grounding: content phrases -> the catalogue's concepts, by synonym table, then MiniLM prototypes.

The vocabulary is the catalogue's: its tags, and the words of its titles that belong to one tag
(`catalogue.py`, `ParseContext.terms`: "messi" -> football when the titles with "messi" are
football's). The built-in synonym table only adds words to tags it knows: a tag that is one of
the table's concepts, or names one (`CONCEPT_HEADS`: a "cooking" tag gets the food words).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from generec.instructor.context import ParserConfig
from generec.instructor.sanitize import CONTROL_WORDS
from generec.instructor.tokens import tokenize, word_forms
from generec.instructor.vocabulary import CONCEPT_HEADS, CONCEPT_MULTI, CONCEPT_SYNONYMS, OTHER_TOPICS, STOP_WORDS

@dataclass(frozen=True)
class Grounded:
    concept: str  # a vocabulary term, or the phrase itself when out of vocabulary
    surface: str  # the words the user typed
    score: float  # 1.0 synonym table, cosine for embedding matches, lower for out-of-vocabulary
    in_vocabulary: bool


class Grounder:
    """Maps content phrases onto one catalogue vocabulary: synonyms, then MiniLM prototypes."""

    def __init__(
        self,
        vocabulary: tuple[str, ...],
        embed: Callable[[list[str]], np.ndarray],
        config: ParserConfig,
        terms: tuple[tuple[str, str], ...] = (),
    ):
        self.vocabulary = vocabulary
        self.config = config
        vocab = set(vocabulary)
        # the table concept each tag stands for: itself, or the one it names ("cooking" -> food)
        stands_for = {c: c if c in CONCEPT_SYNONYMS else table_concept(c) for c in vocabulary}
        covered = {t for t in stands_for.values() if t}
        synonyms = {c: (*CONCEPT_SYNONYMS.get(stands_for[c] or "", ()), *(w for w, tag in terms if tag == c))
                    for c in vocabulary}  # fmt: skip
        table: dict[tuple[str, ...], tuple[str, ...]] = {}
        for concept in vocabulary:
            for phrase in (concept, *synonyms[concept]):
                key = tuple(tokenize(phrase))
                table[key] = tuple(dict.fromkeys(table.get(key, ()) + (concept,)))
        for phrase, concepts in CONCEPT_MULTI.items():
            kept = tuple(c for c in concepts if c in vocab)
            if kept:
                table[tuple(tokenize(phrase))] = kept
        self.table = table
        self.max_phrase = max(len(k) for k in table)
        self.phrases = [k for k in table if len(k) > 1]
        # 8a. prototypes: every vocabulary term and its single-word synonyms; reject class: other topics
        labels: list[str] = []
        texts: list[str] = []
        for concept in vocabulary:
            for phrase in dict.fromkeys((concept, *synonyms[concept])):
                labels.append(concept)
                texts.append(phrase)
        known = {p for p in texts}
        # concepts this catalogue lacks ("plant" in a catalogue without it) are off-catalogue
        # topics too: their phrases must not drift to the nearest concept it has ("food")
        absent = [phrase for concept, syns in CONCEPT_SYNONYMS.items() if concept not in covered for phrase in (concept, *syns)]
        for topic in (*OTHER_TOPICS, *absent):
            if topic not in known and not any(f in known for f in word_forms(topic)):
                labels.append("")
                texts.append(topic)
        self.prototypes = embed(texts)  # (P, 384)
        # a vocabulary term the synonym table does not know ("sports") claims the off-catalogue
        # topics close to it ("football", "soccer"), which would otherwise reject its phrases
        novel = [
            k for k, (label, text) in enumerate(zip(labels, texts))
            if label and not stands_for[label] and text == label
        ]  # fmt: skip
        if novel:
            other = [k for k, label in enumerate(labels) if not label]
            sims = self.prototypes[other] @ self.prototypes[novel].T  # (O, N)
            for row, k in enumerate(other):
                best = int(np.argmax(sims[row]))
                if sims[row, best] >= config.novel_claim_similarity:
                    labels[k] = labels[novel[best]]
        self.labels = np.array(labels)
        self.is_concept = self.labels != ""

    def lookup(self, words: Sequence[str]) -> list[tuple[str, str]]:
        """(concept, surface) for every synonym-table phrase in `words`, longest first."""
        hits: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_phrase, len(words) - i), 0, -1):
                gram = tuple(words[i : i + n])
                concepts = self.table.get(gram)
                if concepts is None and n == 1:
                    concepts = next((self.table[(f,)] for f in word_forms(gram[0]) if (f,) in self.table), None)
                if concepts:
                    hits.extend((c, " ".join(gram)) for c in concepts)
                    i += n
                    break
            else:
                i += 1
        return hits

    def nearest(self, vector: np.ndarray) -> tuple[str | None, float, float]:
        """(concept or None, its cosine, best cosine to any prototype); None: no concept is near enough."""
        sims = self.prototypes @ vector  # (P,)
        concept_sims = np.where(self.is_concept, sims, -1.0)
        other_sims = np.where(self.is_concept, -1.0, sims)
        best = int(np.argmax(concept_sims))
        best_sim = float(concept_sims[best])
        other = float(other_sims.max()) if (~self.is_concept).any() else -1.0
        if best_sim >= self.config.concept_threshold and best_sim >= other + self.config.concept_margin:
            return str(self.labels[best]), best_sim, max(best_sim, other)
        return None, best_sim, max(best_sim, other)


def content_words(words: Sequence[str]) -> list[str]:
    """The words of a chunk that may name a topic: no fillers, no control words, no numbers."""
    return [
        w for w in words
        if (w.isalpha() or "'" in w) and w not in STOP_WORDS and w not in CONTROL_WORDS and len(w) > 1
    ]  # fmt: skip


def table_concept(tag: str) -> str | None:
    """The synonym table's concept a catalogue tag names ("cooking", "recipes" -> food), or None."""
    words = tokenize(tag.replace("_", " "))
    for concept, heads in CONCEPT_HEADS.items():
        if any(f in heads for w in words for f in word_forms(w)):
            return concept
    return None
