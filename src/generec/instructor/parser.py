"""The embedded instruction parser: a user's sentence -> `Guidance`, with no LLM and no network.

Rules and MiniLM sentence embeddings, in numbered steps (`EmbeddedParser.parse`); each step's
algorithm lives in its own module:

1. clean, redact personal data, drop injection-like text (`sanitize.py`); an instruction in a
   language the parser does not read gets a question, never a guess (`language.py`);
2. tokens (`tokens.py`), casual spellings and typos (`spelling.py`: fuzzy matching against the
   parser's lexicon and the catalogue's own words; real words are never "corrected", and a
   typo that matches nothing is dropped, never kept as a concept); sarcasm (`polarity.py`);
3. durations (`durations.py`): "under 10 s", "1:30", "between 5 and 10 seconds", "about 20 s";
   within-turn corrections are marked (`corrections.py`: "actually", "no wait", "scratch that");
4. references (`references.py`): "this video", "the second one", "item v00123";
5. styles (`styles.py`): "b&w", "anime", "chill"; a negated style asks for its opposite;
6. mode rules (`modes.py`): create, edit and retrieval verbs; a rule sets `mode_explicit`;
7. polarity (`polarity.py`): negation scopes, complaints ("why so many people??", "cats are
   the worst"); then corrections revise what came before them, and sarcasm turns wanted into
   unwanted;
8. grounding (`grounding.py`): each content phrase -> the catalogue's vocabulary (its tags and
   title words, `catalogue.py`), by synonym table, then by MiniLM cosine to concept prototypes
   with a reject class of off-catalogue topics; a real word that grounds nowhere is kept as
   typed ("news"), so a tag- or title-matching retriever can still use it;
9. mode by embedding when no rule fired: the sentence with its topics masked against exemplar
   sentences per mode (`modes.py`);
10. edit op, confidence, and a clarify question when nothing actionable was found, a
    reference did not resolve, a relative length has nothing to be relative to, or the
    confidence is below `clarify_threshold`.

Representation choices worth knowing downstream:
- when a concept is both wanted and unwanted ("no cats but more dogs": both "animal"), include
  keeps the concept and exclude the narrower word typed (exclude=("cats",));
- "shorter" / "longer" without a number: `max_duration_s` = `shorter_factor` x (`min_duration_s`
  = `longer_factor` x) the length of the video in question (`reference_duration_s`), else of
  what the user usually watches (`usual_duration_s`), else a question;
- pacing styles (calm, fast) on a repurpose are a clip edit (`edit_op="clip"`); looks are "style".

Each instruction needs at most one `TextEncoder.encode` call (the sentence plus any phrase not
yet cached, batched); exemplar and prototype embeddings are computed once per parser and
vocabulary.
"""

from __future__ import annotations
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


from generec.errors import InputError
from generec.instructor.context import ParseContext, ParserConfig
from generec.instructor.durations import RELATIVE, DurationBound, combine_durations, extract_durations
from generec.instructor.grounding import Grounded, Grounder, content_words
from generec.instructor.guidance import LOOK_STYLES, PACING_STYLES, Guidance
from generec.instructor.modes import MODE_EXEMPLARS, MODE_WORDS, ModeRule, mode_probabilities, rule_mode
from generec.instructor.polarity import EXCLUDE, Chunk, polarity_scan, tag_complaints, tag_cues, tag_double_negations, tag_sarcasm  # fmt: skip
from generec.instructor.references import CLARIFY_WHICH, Reference, find_references, resolve_reference
from generec.instructor.corrections import apply_corrections, tag_corrections
from generec.instructor.language import CLARIFY_LANGUAGE, foreign_language
from generec.instructor.sanitize import clean_text, neutralise_injection, redact_pii
from generec.instructor.spelling import CUE_WORDS, Speller, is_content, lexicon, wordpiece_vocabulary
from generec.instructor.styles import STYLE_OPPOSITE, StyleMention, find_styles
from generec.instructor.tokens import Tokens, plurals, tokenize
from generec.instructor.vocabulary import DEFAULT_VOCABULARY

CLARIFY_WHAT = "What would you like more of — a topic, a style, or a length?"
CLARIFY_LENGTH = "Shorter or longer than what? Give a length, for example 'under 20 seconds'."


# -- the parser ------------------------------------------------------------------------------------------------


@dataclass
class _Analysis:
    """Everything found without embeddings; `EmbeddedParser._finish` completes it."""

    text: str  # cleaned and redacted
    context: ParseContext
    tokens: Tokens
    notes: list[str]
    durations: list[DurationBound]
    refs: list[Reference]
    rule: ModeRule
    chunks: list[Chunk]
    styles: list[tuple[StyleMention, str]]
    relative: str | None
    fuzzy: dict[str, float]  # corrected word -> similarity of the correction
    frame: str  # the sentence with its topics masked: what the mode exemplars are compared with
    need_sentence: bool
    phrases: list[str]  # content phrases that need an embedding
    foreign: bool = False  # in a language the parser does not read (`language.py`)


class EmbeddedParser:
    """Instruction -> Guidance with rules and MiniLM embeddings; no LLM, no network."""

    def __init__(self, config: ParserConfig | None = None, text_encoder=None):
        self.config = config or ParserConfig()
        self.text_encoder = text_encoder
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._grounders: dict[tuple, Grounder] = {}
        self._exemplars: np.ndarray | None = None
        self._exemplar_labels: list[str] = []
        self._speller: Speller | None = None
        self._spellers: dict[tuple[str, ...], Speller] = {}

    # -- set-up (once per parser; once per vocabulary) --

    def warm_up(self) -> EmbeddedParser:
        """Load the encoder and embed the exemplars and the default vocabulary's prototypes."""
        with self._lock:
            if self.text_encoder is None:
                from generec.encoders.text import get_text_encoder

                self.text_encoder = get_text_encoder()
            if self._speller is None:
                self._speller = Speller(
                    lexicon(), wordpiece_vocabulary(self.text_encoder), self.config.fuzzy_cutoff, CUE_WORDS
                )
            grounder = self._grounder(DEFAULT_VOCABULARY)
            if self._exemplars is None:  # exemplars are compared as frames, topics masked like the input's
                labels = [m for m, ex in MODE_EXEMPLARS.items() for _ in ex]
                texts = [s for ex in MODE_EXEMPLARS.values() for s in ex]
                frames = [self._analyse(s, ParseContext(), grounder).frame for s in texts]
                self._exemplars = self._encode_raw(frames)
                self._exemplar_labels = labels
        return self

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.text_encoder.encode(list(texts)), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise InputError(f"text encoder: expected ({len(texts)}, D) vectors, found shape {vectors.shape}")
        return vectors

    def _grounder(self, vocabulary: tuple[str, ...], terms: tuple[tuple[str, str], ...] = ()) -> Grounder:
        with self._lock:
            grounder = self._grounders.get((vocabulary, terms))
            if grounder is None:
                grounder = Grounder(vocabulary, self._encode_raw, self.config, terms)
                self._grounders[(vocabulary, terms)] = grounder
            return grounder

    def _speller_for(self, vocabulary: tuple[str, ...]) -> Speller:
        """The speller with the catalogue's own words in its lexicon ("footbal" -> "football")."""
        with self._lock:
            speller = self._spellers.get(vocabulary)
            if speller is None:
                base = self._speller
                extra = {w for term in vocabulary for w in tokenize(term) if w.isalpha()}
                extra |= {p for w in extra for p in plurals(w)}
                speller = base if extra <= base.lexicon else Speller(base.lexicon | extra, base.known_words, base.cutoff, base.cue_words)
                self._spellers[vocabulary] = speller
            return speller

    def _embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Embeddings of `texts`, from the cache or one batched encode call for the missing ones."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                for text, vector in zip(missing, self._encode_raw(missing)):
                    self._cache[text] = vector
                    if len(self._cache) > self.config.cache_size:
                        self._cache.popitem(last=False)
            out = {}
            for text in texts:
                self._cache.move_to_end(text)
                out[text] = self._cache[text]
            return out

    # -- public API --

    def parse(self, text: str, context: ParseContext | None = None) -> Guidance:
        """One instruction -> Guidance(source="embedded").

        Raises InputError only for text that is not an instruction (see `clean_text`) or a bad
        context; anything it cannot act on becomes a `clarify` question instead.
        """
        return self.parse_many([text], context)[0]

    def parse_many(self, texts: Sequence[str], context: ParseContext | None = None) -> list[Guidance]:
        """Several instructions with one encoder call for all of them."""
        if isinstance(texts, str):
            raise InputError("parse_many: expected a list of instructions, found a single string")
        context = context or ParseContext()
        _check_context(context)
        self.warm_up()
        grounder = self._grounder(tuple(context.vocabulary), tuple(context.terms))
        analyses = [self._analyse(text, context, grounder) for text in texts]
        needed = [a.frame for a in analyses if a.need_sentence] + [p for a in analyses for p in a.phrases]
        vectors = self._embed(needed) if needed else {}
        return [self._finish(a, grounder, vectors) for a in analyses]

    # -- steps --

    def _analyse(self, text: str, context: ParseContext, grounder: Grounder) -> _Analysis:
        """Steps 1-9a, everything that needs no embedding."""
        cfg = self.config
        # 1. clean, redact, drop injection-like text
        cleaned = redact_pii(clean_text(text, cfg.max_chars))
        body, injection_notes = neutralise_injection(cleaned)
        notes = list(injection_notes)
        # 2. tokens, casual words, typos
        words: list[str] = []
        fuzzy: dict[str, float] = {}
        speller = self._speller_for(tuple(context.vocabulary) + tuple(w for w, _ in context.terms))
        for word in tokenize(body):
            if word == "w" and words[-1:] != ["&"]:  # "stop w the cats"; "b & w" stays a style
                word = "with"
            fixed, similarity = speller.correct(word)
            if similarity < 1.0:
                fuzzy[fixed] = similarity
                notes.append(f"read {word!r} as {fixed!r}")
            words.extend(fixed.split())
        t = Tokens(words)
        for k, word in enumerate(words):
            if word.startswith("[") and word.endswith("]"):
                t.tags[k] = "stop"
        sarcastic = tag_sarcasm(t)
        # 3. durations
        trim_verb = any(w in ("trim", "shorten", "cut", "condense", "crop") for w in words)
        durations = extract_durations(t, trim_verb)
        tag_corrections(t)  # before references: "make that cats" names no video
        # 4. references
        refs = find_references(t, is_content, cfg.item_id_prefix)
        # 5. styles
        style_mentions = find_styles(t)
        for k in range(len(t)):  # multi-word concepts ("night sky", "street food") stay one phrase
            n = t.longest(k, grounder.phrases)
            if n:
                t.tag(k, k + n, "concept")
        # 6. mode rules
        rule = rule_mode(t, refs, style_mentions, bool(durations))
        tag_complaints(t)  # before verbs: "these are boring" is a verdict, not the clip cue
        tag_double_negations(t)  # "don't stop the cat videos" wants them
        for k, word in enumerate(words):  # verbs and cue nouns are not topics ("cut out" stays a negation)
            if t.tags[k] is None and word in MODE_WORDS and (word != "cut" or rule.mode == "repurpose"):
                t.tags[k] = "verb"
        # 7. polarity
        tag_cues(t)
        relative = None
        for k, tag in enumerate(t.tags):
            if tag == "rel" and relative is None:
                word = t.words[k]
                relative = RELATIVE.get(word) or ("shorter" if t.words[k + 1 : k + 2] == ["long"] else "longer")
        chunks, styles = polarity_scan(t, style_mentions)
        chunks, styles, correction_notes = apply_corrections(t, chunks, styles)
        notes.extend(correction_notes)
        if sarcastic and any(c.polarity != EXCLUDE for c in chunks):  # "oh great, more food videos"
            chunks = [Chunk(c.words, EXCLUDE, c.start) for c in chunks]
            styles = [(m, EXCLUDE) for m, _ in styles]
            notes.append("read as sarcasm: what it names is unwanted")
        # 8a. which phrases the synonym table cannot ground (they need an embedding)
        phrases: list[str] = []
        for chunk in chunks:
            words_c = content_words(chunk.words)
            if words_c and not grounder.lookup(words_c):
                phrases.append(" ".join(words_c))
        # 9a. the intent frame: "make me a video about cats" -> "make me a video about something"
        frame_words: list[str] = []
        for k, word in enumerate(t.words):
            if t.tags[k] in (None, "style", "concept"):
                if not frame_words or frame_words[-1] != "something":
                    frame_words.append("something")
            else:
                frame_words.append(word)
        frame = " ".join(frame_words)
        need_sentence = rule.mode is None and not set(frame_words) <= _TRIVIAL_FRAME
        return _Analysis(cleaned, context, t, notes, durations, refs, rule, chunks, styles, relative, fuzzy,
                         frame, need_sentence, phrases, foreign_language(body))  # fmt: skip

    def _finish(self, a: _Analysis, grounder: Grounder, vectors: dict[str, np.ndarray]) -> Guidance:
        """The rest, with the embeddings of the frame and of the phrases the table did not know."""
        cfg, ctx = self.config, a.context
        notes = list(a.notes)
        # 8b. ground every phrase: synonym table, else the nearest prototype, else kept as typed
        include: list[Grounded] = []
        exclude: list[Grounded] = []
        for chunk in a.chunks:
            words = content_words(chunk.words)
            if not words:
                continue
            hits = grounder.lookup(words)
            grounded: list[Grounded] = []
            if hits:
                for concept, surface in hits:
                    score = min((a.fuzzy.get(w, 1.0) for w in surface.split()), default=1.0)
                    grounded.append(Grounded(concept, " ".join(words), score, True))
            else:
                phrase = " ".join(words)
                concept, sim, topicality = grounder.nearest(vectors[phrase])
                if concept is not None:
                    grounded.append(Grounded(concept, phrase, sim, True))
                elif topicality < cfg.oov_min_similarity:  # "already", "honestly": not a topic at all
                    notes.append(f"ignored {phrase!r}: not a topic")
                elif any(self._speller.looks_like_typo(w) for w in words):  # "shwo": a typo, never a concept
                    notes.append(f"ignored {phrase!r}: not a word I know, and close to nothing in the catalogue")
                else:
                    grounded.append(Grounded(phrase, phrase, 0.6, False))
                    notes.append(f"kept {phrase!r} as is: no catalogue concept is close (best cosine {sim:.2f})")
            (exclude if chunk.polarity == EXCLUDE else include).extend(grounded)
        include_terms = list(dict.fromkeys(g.concept for g in include))
        exclude_terms: list[str] = []
        for g in exclude:
            if g.concept in include_terms:  # "no cats but more dogs": the include keeps "animal"
                if g.surface != g.concept and g.surface not in include_terms:
                    exclude_terms.append(g.surface)
                    notes.append(f"{g.concept!r} is both wanted and not: excluding only {g.surface!r}")
            elif g.concept not in exclude_terms:
                exclude_terms.append(g.concept)
        exclude_terms = [e for e in dict.fromkeys(exclude_terms) if e not in include_terms]

        # 5b. style: the first wanted one; a negated style asks for its opposite
        style = strength = None
        for mention, polarity in a.styles:
            wanted = mention.style if polarity != EXCLUDE else STYLE_OPPOSITE.get(mention.style)
            if wanted is None:
                continue
            if style is None:
                style, strength = wanted, mention.strength
            elif wanted != style:
                notes.append(f"also asked for style {wanted!r}; kept {style!r}")

        # 3b. durations; relative lengths resolve against the reference length when there is one
        low, high, duration_notes = combine_durations(a.durations, cfg.approx_tolerance)
        notes.extend(duration_notes)
        if a.relative:
            notes.append(f"relative_duration:{a.relative}")
            # the video in question, else what the user usually watches
            ref_len = ctx.reference_duration_s or ctx.usual_duration_s
            if ref_len and not ctx.reference_duration_s:
                notes.append(f"relative to the usual length of what you watch ({ctx.usual_duration_s:g} s)")
            if ref_len and a.relative == "shorter" and high is None:
                high = round(cfg.shorter_factor * ref_len, 6)
            elif ref_len and a.relative == "longer" and low is None:
                low = round(cfg.longer_factor * ref_len, 6)
        if low is not None and high is not None and low > high:
            low = None

        # 9b. mode: rules, else exemplar similarity (retrieve unless another mode is clearly closer)
        mode = a.rule.mode
        mode_explicit = mode is not None
        mode_confidence = 0.95 if mode_explicit else 0.0
        if mode is None and not a.need_sentence:
            mode, mode_confidence = "retrieve", 0.8
        if mode is None:
            probs = mode_probabilities(
                vectors[a.frame], self._exemplars, self._exemplar_labels, cfg.mode_temperature, cfg.mode_top_k
            )
            best = max(probs, key=probs.get)
            has_target = any(r.kind != "pronoun" for r in a.refs)  # an edit needs something named to edit
            if best != "retrieve" and probs[best] >= cfg.mode_min_prob and (best == "create" or has_target):
                mode, mode_confidence = best, probs[best]
            else:
                mode, mode_confidence = "retrieve", max(probs["retrieve"], 0.7)

        # 4b. the target item
        target = None
        clarify = None
        refs = [r for r in a.refs if r.kind != "pronoun" or mode == "repurpose"]
        if refs:
            target, clarify = resolve_reference(refs[0], ctx, cfg)
        elif mode == "repurpose":
            target = ctx.current_item
            if target is None:
                clarify = CLARIFY_WHICH

        # 10. edit op
        edit_op = None
        if mode == "repurpose":
            if a.rule.edit_cue in ("cover", "clip"):
                edit_op = a.rule.edit_cue
            elif a.relative == "shorter" or high is not None:
                edit_op = "clip"
            elif a.rule.edit_cue == "style" or (style in LOOK_STYLES):
                edit_op = "style"
            elif style in PACING_STYLES:
                edit_op = "clip"

        # 10b. confidence and clarify
        scores = [g.score for g in include + exclude]
        grounding = float(np.mean(scores)) if scores else 1.0
        confidence = mode_confidence * grounding
        actionable = bool(include_terms or exclude_terms or style or low is not None or high is not None
                          or a.relative or target or mode == "create")  # fmt: skip
        if a.relative and low is None and high is None and mode == "retrieve" and clarify is None:
            clarify = CLARIFY_LENGTH  # "shorter videos" with no history to be shorter than
        if a.foreign:  # a question, never a wrong confident reading
            include_terms, exclude_terms, style, low, high, clarify = [], [], None, None, None, CLARIFY_LANGUAGE
            confidence = min(confidence, 0.2)
            notes.append("not read: the instruction is not in English")
        elif not actionable and clarify is None:
            clarify = CLARIFY_WHAT
            confidence = min(confidence, 0.2)
        elif clarify is not None:
            confidence = min(confidence, 0.4)
        elif confidence < cfg.clarify_threshold:
            clarify = "I'm not sure I understood — " + CLARIFY_WHAT[0].lower() + CLARIFY_WHAT[1:]
        has_content = bool(include_terms or exclude_terms or style)
        return Guidance(
            mode=mode, mode_explicit=mode_explicit, edit_op=edit_op,
            include=tuple(include_terms), exclude=tuple(exclude_terms),
            style=style, style_strength=strength if style else None,
            max_duration_s=high, min_duration_s=low, target_item=target,
            user_vector="history+instruction" if has_content else "history",
            clarify=clarify, confidence=float(np.clip(confidence, 0.0, 1.0)),
            text=a.text, source="embedded", notes=tuple(dict.fromkeys(notes)),
        )  # fmt: skip


def _check_context(context: ParseContext) -> None:
    if not isinstance(context, ParseContext):
        raise InputError(f"context: expected a ParseContext, found {type(context).__name__}")
    if isinstance(context.vocabulary, str) or not context.vocabulary:
        raise InputError("context.vocabulary: expected a non-empty tuple of concept tags")
    if isinstance(context.last_feed, str):
        raise InputError("context.last_feed: expected a tuple of item ids, found a single string")


# a frame made only of these words has no intent in it: retrieve, without asking the exemplars
_TRIVIAL_FRAME = frozenset(
    """something and or & , . ! ? please more only just some any no not less the a an of with videos clips look
    stuff vibes tones colours colors""".split()
)
