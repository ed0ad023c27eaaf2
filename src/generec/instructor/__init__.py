"""The instructor: natural-language instructions plus feedback become generation guidance.

- `guidance`: the `Guidance` model every component obeys;
- `sanitize`: untrusted text -> clean text, PII redacted, injection neutralised;
- `parser`: the embedded parser (rules + MiniLM, no network);
- `llm`: an optional OpenAI-compatible chat backend that falls back to the embedded parser;
- `dialogue`: per-user sessions where later turns refine earlier ones;
- `evaluate`: the labelled instruction set and its metrics.
"""
