"""Is the instruction in a language the parser reads? It reads English; others get a question.

The parser's tables are English; an instruction in another language would ground its words
("gatos", "Katzen") by sound or not at all, and a wrong confident reading is worse than a question.
A text is read as another language when most of its letters are outside Latin script ("猫の動画",
"больше котов"), or when it has at least as many function words of Spanish, French, German,
Italian, Portuguese or Dutch (`FOREIGN_WORDS`, none of them English words) as English stop words.
"""

from __future__ import annotations

import re
import unicodedata

from generec.instructor.vocabulary import STOP_WORDS

FOREIGN_WORDS = frozenset(
    """quiero quieres queremos muéstrame muestrame enséñame ver más mas por favor los las del una unos unas
    sin con esto eso otra otro otros también gracias videos de la el gatos perros comida
    montre montrez moi des les du veux voudrais voir avec sans encore pas je merci vidéos chiens
    mehr bitte keine kein nicht zeig zeige mir ich möchte ohne und der das ein eine noch danke katzen hunde
    voglio vedere mostrami più senza grazie gatti cani delle degli
    mostre mostra quero mais dos das sem obrigado obrigada gatinhos
    geen meer niet toon laat zien graag alsjeblieft zonder katten honden mensen""".split()
) - STOP_WORDS  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
CLARIFY_LANGUAGE = "I can only read English instructions so far — could you say that in English?"


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def foreign_language(text: str) -> bool:
    """Whether `text` reads as a language other than English (module doc)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    if sum(not _latin(ch) for ch in letters) > 0.5 * len(letters):
        return True
    words = _WORD.findall(text.lower())
    foreign = sum(w in FOREIGN_WORDS for w in words)
    english = sum(w in STOP_WORDS for w in words)
    return foreign >= 1 and foreign >= english
