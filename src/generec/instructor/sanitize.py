"""Instruction hygiene: clean the text, redact personal data, neutralise prompt injection.

Three small functions, applied in this order by the embedded parser (and by anything else that
stores or forwards an instruction):

1. `clean_text` refuses what is not an instruction (None, not a string, empty, too long, binary
   junk) with an `InputError` naming what was expected, and otherwise returns NFKC-normalised
   text with control characters removed and whitespace collapsed.
2. `redact_pii` replaces e-mail addresses, phone numbers, IP addresses, card-like digit runs and
   URLs that carry credentials with placeholders (`[email]`, `[phone]`, `[ip]`, `[card]`,
   `[url]`). The redacted text is what gets stored (`Guidance.text`, the instruction table).
3. `neutralise_injection` drops the parts of an instruction that address the system rather than
   describe videos: role prefixes ("system:", "assistant:"), "ignore previous instructions",
   "you are now ...", "set mode to ...", `field=value` assignments of guidance fields.

Why injection can only ever change content words: the embedded parser never copies free text
into a control field. `mode` comes from a closed rule set and exemplar similarity, `style` from
the closed style vocabulary, durations from numbers, `target_item` only from a reference that
resolves against the caller's context (the last feed, the current item, `item_exists`). The only
free text that can reach `include` / `exclude` is a content phrase, and `CONTROL_WORDS` (admin,
system, prompt, password, ...) are never kept as concepts. Step 3 removes the common attack
phrasings so they do not even become content words.
"""

from __future__ import annotations

import re
import unicodedata

from generec.errors import InputError

MAX_CHARS = 500
JUNK_SHARE = 0.3  # refuse text whose share of unprintable / replacement / NUL characters is above this

# Words that name the system's own machinery: they never become concepts to include or exclude.
CONTROL_WORDS = frozenset(
    """admin admins administrator administrators system systems prompt prompts instruction instructions
    rule rules directive directives developer developers jailbreak jailbroken password passwords passcode
    root sudo hidden private secret secrets internal debug database databases config configuration token
    tokens api apis credential credentials mode modes guidance override restricted confidential dan
    moderator moderators staff backend server servers""".split()
)


# -- 1. cleaning ---------------------------------------------------------------------------------


def _is_junk(char: str) -> bool:
    if char in "\t\n\r ":
        return False
    if char == "\x00" or char == "\ufffd":
        return True
    return unicodedata.category(char)[0] == "C" or not char.isprintable()


def clean_text(text: object, max_chars: int = MAX_CHARS) -> str:
    """A user's instruction -> one line of NFKC-normalised, printable text of at most `max_chars`.

    Raises InputError for None or a non-string, an empty or whitespace-only string, text longer
    than `max_chars` characters, and binary junk (mostly NUL, U+FFFD or other unprintable
    characters).
    """
    if text is None:
        raise InputError("instruction: expected a string of text, found None")
    if isinstance(text, bytes):
        raise InputError("instruction: expected a string of text, found bytes (decode it first)")
    if not isinstance(text, str):
        raise InputError(f"instruction: expected a string of text, found {type(text).__name__}")
    if len(text) > 4 * max_chars:  # refuse before spending time on normalisation
        raise InputError(f"instruction: expected at most {max_chars} characters, found {len(text)}")
    if text:
        junk = sum(_is_junk(c) for c in text)
        if junk / len(text) > JUNK_SHARE:
            raise InputError(
                f"instruction: expected readable text, found binary data ({junk} of {len(text)} characters unprintable)"
            )
    text = unicodedata.normalize("NFKC", text)
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\t\n\r" or category in ("Zl", "Zp"):
            out.append(" ")
        elif category[0] == "C":  # controls, zero-width formats, surrogates, unassigned: dropped
            continue
        else:
            out.append(char)
    cleaned = " ".join("".join(out).split())
    if not cleaned:
        raise InputError("instruction: expected some words, found an empty or whitespace-only string")
    if len(cleaned) > max_chars:
        raise InputError(f"instruction: expected at most {max_chars} characters, found {len(cleaned)}")
    return cleaned


# -- 2. personal data -------------------------------------------------------------------------------

_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/@:]+:[^\s/@]*@\S+", re.I)
_URL_SECRET_QUERY = re.compile(
    r"\b(?:https?|ftp)://\S*?[?&](?:token|key|api_?key|password|passwd|pass|pwd|secret|auth|access_token|sig|signature)=\S*",
    re.I,
)
_EMAIL = re.compile(r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b", re.I)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?::\d{{1,5}})?(?![\w.]*\d)")
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:?){0,6}[0-9a-f]{0,4}|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})(?![\w:])",
    re.I,
)
_CARD = re.compile(r"(?<![\d.,:])\d(?:[ -]?\d){12,18}(?![\d.,:])")
# A phone-number candidate: an optional +country code, digits in groups separated by one space,
# dot, dash or parenthesis. It is kept only if it has 7 to 15 digits (see `_phone`).
_PHONE = re.compile(r"(?<![\w+@./:-])(?:\+|00)?\(?\d[\d().\- ]{5,22}\d(?![\w@/:-]|\.\d)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*-\s*(?:19|20)\d\d$")


def _phone(match: re.Match[str]) -> str:
    candidate = match.group(0)
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15 or _ISO_DATE.match(candidate.strip()):
        return candidate
    if "  " in candidate or re.search(r"[.\-()]{2,}", candidate.replace(") ", ")").replace(")-", ")")):
        return candidate
    if _YEAR_RANGE.match(candidate.strip()):
        return candidate
    international = candidate.startswith(("+", "00"))
    groups = [g for g in re.split(r"[\s.()-]+", candidate.strip("+()")) if g]
    if not international:
        if len(groups) == 1 and digits < 9:  # a plain number such as 1234567 is not taken for a phone
            return candidate
        if any(len(g) > 6 for g in groups[1:]):
            return candidate
    return "[phone]"


def _ipv6(match: re.Match[str]) -> str:
    # a clock time such as 1:30:00 has digits only and no "::"; an IPv6 address has hex or "::"
    candidate = match.group(0)
    looks_like_ip = candidate.count(":") >= 7 or "::" in candidate or re.search(r"[a-f]", candidate, re.I)
    return "[ip]" if looks_like_ip else candidate


def redact_pii(text: str) -> str:
    """Replace personal data with placeholders: [url] [email] [ip] [card] [phone]."""
    if not isinstance(text, str):
        raise InputError(f"redact_pii: expected a string, found {type(text).__name__}")
    text = _URL_CREDENTIALS.sub("[url]", text)
    text = _URL_SECRET_QUERY.sub("[url]", text)
    text = _EMAIL.sub("[email]", text)
    text = _IPV6.sub(_ipv6, text)
    text = _IPV4.sub("[ip]", text)
    text = _CARD.sub("[card]", text)
    text = _PHONE.sub(_phone, text)
    return text


# -- 3. prompt injection -----------------------------------------------------------------------------

_GUIDANCE_KEYS = r"mode|mode_explicit|target_item|target|item_id|source|confidence|clarify|edit_op|user_vector|notes|version|text|style_strength"
_CONTENT_KEYS = r"include|exclude|style|topic|topics"
_INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("markup", re.compile(r"<\|[^|>]{0,40}\|>|</?[a-z][^<>]{0,60}>|\[/?(?:inst|sys|system)\]|<</?sys>>|</?(?:system|assistant|user|developer)>|#{2,}", re.I)),
    ("role prefix", re.compile(r"(?:^|(?<=[.!?;\n]))\s*(?:(?:system|assistant|developer|admin|root|user|ai)\s*(?:prompt|message|note|override)?\s*:)", re.I)),
    ("system prompt", re.compile(r"\b(?:system|hidden|initial|original|developer)\s+(?:prompt|message|instructions?)s?\b", re.I)),
    ("override", re.compile(
        r"\b(?:ignore|disregard|forget|override|bypass|skip|drop|delete|erase|overwrite)\s+(?:all\s+|any\s+|every\s+|the\s+|your\s+|my\s+|of\s+)*"
        r"(?:previous\s+|prior\s+|above\s+|earlier\s+|preceding\s+|former\s+|existing\s+|original\s+|safety\s+|system\s+)*"
        r"(?:instructions?|rules?|prompts?|directives?|messages?|context|guidelines?|guidance|constraints?|filters?|restrictions?|policies|policy|the\s+above|everything(?:\s+(?:above|before))?)\b",
        re.I,
    )),
    ("persona", re.compile(r"\b(?:you\s+are\s+now|you\s+will\s+now|from\s+now\s+on\s+you|act\s+as|pretend\s+(?:to\s+be|you\s+are)|roleplay\s+as|behave\s+as)\b[^.!?;\n]*", re.I)),
    ("directive", re.compile(r"\b(?:new|updated|override)\s+(?:directive|instructions?|rules?|task|orders?)\b", re.I)),
    ("set field", re.compile(rf"\b(?:set|switch|change|force|put)\s+(?:the\s+)?(?:{_GUIDANCE_KEYS})\b\s*(?:to\b|=|:|into\b|as\b)?\s*[\w\"'\[\]-]*", re.I)),
    ("field assignment", re.compile(rf"\b(?:{_GUIDANCE_KEYS})\s*(?:=|:)\s*(?:\[[^\]]*\]|\{{[^}}]*\}}|'[^']*'|\"[^\"]*\"|[^\s,;]+)", re.I)),
    ("reveal", re.compile(r"\b(?:reveal|print|leak|dump|output|repeat)\s+(?:me\s+)?(?:the\s+|your\s+|all\s+)*(?:prompt|instructions?|rules|secrets?|passwords?|config(?:uration)?)\b", re.I)),
    ("destructive", re.compile(r"\b(?:delete|drop|wipe|erase|destroy|truncate)\s+(?:all\s+|every\s+|the\s+)*(?:items?|videos?|users?|data|database|tables?|everything|catalogue|catalog)\b", re.I)),
)
_CONTENT_ASSIGNMENT = re.compile(rf"\b(?:{_CONTENT_KEYS})\s*(?:=|:)\s*", re.I)


def neutralise_injection(text: str) -> tuple[str, tuple[str, ...]]:
    """Drop text that addresses the system instead of describing videos.

    Returns the remaining text and a note per kind of attempt found (e.g. "ignored injection-like
    text: role prefix"). `include=`, `exclude=` and `style=` assignments lose only their key: the
    value stays as ordinary words and goes through the same grounding as any other content.
    """
    found: list[str] = []
    for name, pattern in _INJECTION_PATTERNS:
        text, n = pattern.subn(" ", text)
        if n:
            found.append(name)
    text, n = _CONTENT_ASSIGNMENT.subn(" ", text)
    if n:
        found.append("field assignment")
    text = re.sub(r"[\[\]{}'\"`]", " ", text) if found else text
    text = " ".join(text.split())
    notes = tuple(f"ignored injection-like text: {name}" for name in dict.fromkeys(found))
    return text, notes
