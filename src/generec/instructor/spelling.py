"""Casual spellings and typos: tokens mapped onto the parser's lexicon (`Speller`)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from generec.instructor.durations import NUMBER_WORDS, RELATIVE, UNITS
from generec.instructor.modes import (
    CLIP_WORDS, COVER_WORDS, CREATE_NOUNS, CREATE_STRONG, CREATE_WEAK, EDIT_STRONG, EDIT_WEAK, RETRIEVE_CUES, STYLE_VERBS,
)  # fmt: skip
from generec.instructor.polarity import CONTRASTS, INCLUDES, NEGATIONS
from generec.instructor.references import ORDINALS
from generec.instructor.styles import STYLE_PHRASES
from generec.instructor.tokens import plurals, tokenize, word_forms
from generec.instructor.vocabulary import CASUAL, CONCEPT_MULTI, CONCEPT_SYNONYMS, DEFAULT_VOCABULARY, OTHER_TOPICS, STOP_WORDS

def _drops_one_letter(longer: str, word: str) -> bool:
    return any(longer[:k] + longer[k + 1 :] == word for k in range(len(longer)))


class Speller:
    """Maps casual and misspelt tokens onto the parser's lexicon.

    A word is corrected only if the lexicon lacks it and either MiniLM's word-piece vocabulary
    lacks it too (so real words such as "boats" are never "corrected" into "bats"), or it is long
    and nearly identical to a lexicon word ("somethin" -> "something"). Short words get one
    missing letter back ("sho" -> "show") when the fix is unambiguous among the parser's cue words.
    """

    def __init__(
        self, lexicon: set[str], known_words: frozenset[str], cutoff: float, cue_words: frozenset[str] = frozenset()
    ):
        self.lexicon = lexicon
        self.known_words = known_words
        self.cutoff = cutoff
        self.cue_words = cue_words
        self._choices = sorted(w for w in lexicon if len(w) >= 3 and w.isalpha())
        self._cache: dict[str, tuple[str, float]] = {}

    def is_real_word(self, word: str) -> bool:
        if not self.known_words:
            return len(word) < 4
        return any(form in self.known_words for form in word_forms(word))

    def _closest(self, word: str) -> tuple[str, float]:
        close = difflib.get_close_matches(word, self._choices, n=1, cutoff=self.cutoff)
        if not close:  # "plantz" -> "plants", "flowerss" -> "flowers"
            close = difflib.get_close_matches(re.sub(r"(.)\1+$", r"\1", word), self._choices, n=1, cutoff=self.cutoff)
        if not close:
            return word, 0.0
        return close[0], difflib.SequenceMatcher(None, word, close[0]).ratio()

    def looks_like_typo(self, word: str) -> bool:
        """A word the lexicon and the encoder's vocabulary lack, close to a lexicon word ("shwo")."""
        if word in self.lexicon or self.is_real_word(word) or any(f in self.lexicon for f in word_forms(word)):
            return False
        return bool(difflib.get_close_matches(word, self._choices, n=1, cutoff=0.7))

    def _one_swap(self, word: str) -> str | None:
        """The unique cue word that is `word` with two neighbouring letters swapped ("shwo" -> "show")."""
        swaps = {word[:k] + word[k + 1] + word[k] + word[k + 2 :] for k in range(len(word) - 1)}
        found = swaps & self.cue_words
        return found.pop() if len(found) == 1 else None

    def _one_letter_missing(self, word: str) -> str | None:
        """The unique cue word that is `word` with one letter added ("sho" -> "show")."""
        found = {c for c in self.cue_words if len(c) == len(word) + 1 and _drops_one_letter(c, word)}
        return found.pop() if len(found) == 1 else None

    def correct(self, word: str) -> tuple[str, float]:
        """(corrected word, similarity); similarity 1.0 when unchanged or an exact casual form."""
        if word in CASUAL:
            return CASUAL[word], 1.0
        if word in self.lexicon or not word.isalpha() or len(word) < 3:
            return word, 1.0
        if any(f in self.lexicon for f in word_forms(word)):
            return word, 1.0
        if word not in self._cache:
            fixed, ratio = word, 1.0
            if len(word) <= 4:
                short = self._one_letter_missing(word) or self._one_swap(word)
                if short is not None:
                    fixed, ratio = short, 0.85
            if fixed == word:
                candidate, similarity = self._closest(word)
                real = self.is_real_word(word)
                if candidate != word and (not real or (len(word) >= 7 and similarity >= 0.9)):
                    fixed, ratio = candidate, similarity
            self._cache[word] = (fixed, ratio)
        fixed, ratio = self._cache[word]
        if fixed == word:
            return word, 1.0
        return CASUAL.get(fixed, fixed), ratio


def lexicon() -> set[str]:
    words: set[str] = set(STOP_WORDS) | set(CASUAL) | set(NUMBER_WORDS) | set(UNITS) | set(ORDINALS)
    for phrases in (*CONCEPT_SYNONYMS.values(), *STYLE_PHRASES.values(), NEGATIONS, INCLUDES, CONTRASTS,
                    tuple(CONCEPT_MULTI), DEFAULT_VOCABULARY):  # fmt: skip
        for phrase in phrases:
            words.update(tokenize(phrase))
    words |= CREATE_STRONG | CREATE_WEAK | CREATE_NOUNS | EDIT_STRONG | EDIT_WEAK | RETRIEVE_CUES | COVER_WORDS
    words |= CLIP_WORDS | STYLE_VERBS | set(RELATIVE) | set(OTHER_TOPICS)
    words |= {p for w in list(words) for p in plurals(w)}
    return {w for w in words if w.isalpha() or "'" in w}


# words a short typo is most likely to be ("sho" -> "show"): intent and cue words, not topics
CUE_WORDS = frozenset(
    """show more less want see give make edit trim this that with without not none only just some like love find
    please food space text cats dogs people plants flowers videos clips shorter longer brighter darker""".split()
)



def wordpiece_vocabulary(encoder) -> frozenset[str]:
    """Whole words of the encoder's tokenizer vocabulary (real words are never spell-corrected)."""
    path = getattr(encoder, "path", None)
    try:
        vocab_file = Path(path) / "vocab.txt" if path is not None else None
    except TypeError:
        vocab_file = None
    if vocab_file is None or not vocab_file.is_file():
        return frozenset()
    words = vocab_file.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in words if w.isalpha() and not w.startswith("##"))


FUNCTION_WORDS = frozenset(
    w for ps in (NEGATIONS, INCLUDES, CONTRASTS) for p in ps for w in tokenize(p)
) | set(UNITS) | set(RELATIVE) | EDIT_STRONG | EDIT_WEAK | CREATE_NOUNS | frozenset(("but", "in", "into", "as", "to"))


def is_content(word: str) -> bool:
    """Whether a word could name a topic (so "that" before it is a determiner, not a reference)."""
    return word.isalpha() and len(word) > 2 and word not in STOP_WORDS and word not in FUNCTION_WORDS
