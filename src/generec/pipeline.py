"""Glue: the library calls that the CLI and the service make. No model code lives here.

`edit(...)` repurposes one catalogue item for one user: the instruction (if any) becomes
guidance, the user's preference is built, and the op writes a new AI-edited item.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.editor.base import EditContext, EditResult, check_user, video_item
from generec.editor.clip import ClipConfig, ClipEditor, clip_length
from generec.editor.concept_head import TooFewTags
from generec.editor.cover import CoverConfig, CoverEditor
from generec.editor.look_judge import LookJudge, LookJudgeConfig, look_classifier, look_taste
from generec.editor.regenerate import RegenerateConfig
from generec.editor.preference import (
    SOURCES,
    Preference,
    catalogue_center,
    concept_head,
    history_covers,
    retriever_preference,
)
from generec.editor.style import StyleConfig, StyleEditor
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.types import Origin
from generec.workspace import Workspace

EDIT_OPS = ("cover", "clip", "style", "regenerate")


@dataclass(frozen=True)
class EditConfig:
    preference: str = "concepts"  # history | concepts | retriever (see editor/preference.py)
    seed: int = 0
    cover: CoverConfig = field(default_factory=CoverConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    looks: LookJudgeConfig = field(default_factory=LookJudgeConfig)
    regenerate: RegenerateConfig = field(default_factory=RegenerateConfig)


@dataclass(frozen=True)
class CreatorSettings:
    backend: str = "embedded"  # embedded | diffusers
    diffusers_path: str | None = None  # a local DiffusionPipeline directory (backend "diffusers")
    device: str | None = None  # the diffusers backend's device; None: CUDA when present
    checkpoint: str | None = None  # an embedded checkpoint other than models/creator/creator.pt (a snapshot)

    def load(self, ws: Workspace):
        """(generator, frames, model name), loaded once per process."""
        from generec.creator.loading import load_creator

        return load_creator(ws, self.backend, self.diffusers_path, self.device, self.checkpoint)


def parse_instruction(ws: Workspace, text: str, item_id: str | None = None, duration: float | None = None) -> Guidance:
    """Guidance from an instruction about `item_id`, with the embedded parser."""
    from generec.instructor.catalogue import catalogue_vocabulary
    from generec.instructor.parser import DEFAULT_VOCABULARY, ParseContext

    catalogue = catalogue_vocabulary(ws.items.all(origin=Origin.HUMAN))  # its tags and title words
    context = ParseContext(
        vocabulary=catalogue.tags or DEFAULT_VOCABULARY, terms=catalogue.terms, current_item=item_id,
        item_exists=lambda i: ws.items.get(i) is not None, reference_duration_s=duration,
    )  # fmt: skip
    return get_parser().parse(text, context)


_PARSER = None


def get_parser():
    """The process-wide embedded parser (its exemplar embeddings are computed once)."""
    global _PARSER
    if _PARSER is None:
        from generec.instructor.parser import EmbeddedParser

        _PARSER = EmbeddedParser()
    return _PARSER


def user_preference(ws: Workspace, user_id: str, source: str, clicked: np.ndarray, encoder, cache: FeatureCache) -> Preference:
    """The user's preference of `source` from the features (n, 1280) of their clicked covers
    (`history_covers`); `retriever` reads the current multimodal retriever instead. `concepts` on
    a catalogue whose tags are too few for a concept head is `history`, its `fallback` says why."""
    if source not in SOURCES:
        raise InputError(f"unknown preference {source!r}; valid: {', '.join(SOURCES)}")
    if source == "history":
        return Preference(user_id, "history", clicked.mean(0), len(clicked))
    if source == "concepts":
        try:
            head = concept_head(ws, encoder, cache)
        except TooFewTags as exc:  # a small or tag-less catalogue: User_Hist, and say so
            return Preference(user_id, "history", clicked.mean(0), len(clicked), fallback=exc.reason)
        return Preference(user_id, "concepts", head.taste(clicked), len(clicked), head)
    from generec.retrieval.serving import load_current

    model = load_current(ws)
    if model.name != "multimodal":
        raise InputError(f"the retriever preference needs the multimodal retriever as the current model, found {model.name!r}; run `generec train --model multimodal`")
    return retriever_preference(model, user_id)


def look_judge_or_reason(
    ws: Workspace, user_id: str, encoder, cache: FeatureCache, config: LookJudgeConfig | None = None
) -> tuple[LookJudge | None, str | None]:
    """(the user's look judge, None), or (None, why there is none)."""
    cfg = config or LookJudgeConfig()
    classifier = look_classifier(ws, encoder, cache, cfg)
    if classifier is None:
        return None, "the catalogue has no covers to learn looks from"
    taste = look_taste(ws, user_id, classifier, encoder, cache)
    if taste is None:
        return None, f"user {user_id} has fewer than {classifier.config.min_impressions} impressions"
    return LookJudge.for_taste(classifier, taste), None


def edit_context(ws: Workspace, user_id: str, guidance: Guidance | None, cfg: EditConfig, op: str) -> tuple[EditContext, str | None]:
    """What an edit or a creation for `user_id` is judged by: their preference, the text→image
    bridge when concepts steer it, and their look judge (or why there is none, as a note)."""
    encoder, cache = get_image_encoder(), FeatureCache.for_workspace(ws)
    clicked = history_covers(ws, user_id, encoder, cache)  # read once: the preference and User_Hist
    preference = user_preference(ws, user_id, cfg.preference, clicked, encoder, cache)
    bridge = None
    if guidance is not None and (guidance.include or guidance.exclude):
        from generec.encoders.bridge import load_text_image_bridge

        bridge = load_text_image_bridge(ws)
    hist = Preference(user_id, "history", clicked.mean(0), len(clicked))
    ctx = EditContext(ws, user_id, preference, encoder, cache, bridge, cfg.seed, history=hist.vector)
    look_note = None
    if guidance is None or guidance.look is None:  # the user's own look: from impressions, else from clicked covers
        ctx.look_judge, why = look_judge_or_reason(ws, user_id, encoder, cache, cfg.looks)
        if ctx.look_judge is None:  # what sets the user's clicked covers apart from the catalogue's
            ctx.look_preference = dataclasses.replace(hist, center=catalogue_center(ws, encoder, cache))
            need = cfg.clip.restyle_min_clicks if op == "clip" else cfg.cover.restyle_min_clicks
            if op not in ("style", "create") and hist.n_history < need:
                look_note = f"no look applied: no look judge ({why}) and {hist.n_history} clicked covers (a look needs {need})"
            else:
                look_note = f"look judged by the user's {hist.n_history} clicked covers (no look judge: {why})"
    return ctx, look_note


def edit(
    ws: Workspace,
    op: str,
    user_id: str,
    item_id: str,
    instruction: str | None = None,
    guidance: Guidance | None = None,
    config: EditConfig | None = None,
    settings: CreatorSettings | None = None,
) -> EditResult:
    cfg = config or EditConfig()
    # 1. check inputs (before any model loads)
    if op not in EDIT_OPS:
        raise InputError(f"unknown edit op {op!r}; valid ops: {', '.join(EDIT_OPS)}")
    check_user(ws, user_id)
    item = video_item(ws, item_id, op)
    if instruction is not None and guidance is not None:
        raise InputError("give an instruction or a guidance object, not both")
    # 2. the instruction becomes guidance
    if instruction is not None:
        guidance = parse_instruction(ws, instruction, item.id, item.media.duration)
    if guidance is not None:  # a request for blocked content is refused before anything is made
        from generec.fidelity.safety import refuse_blocked

        refuse_blocked(guidance)
    if op == "clip":  # an unsatisfiable length fails before anything is computed or stored
        clip_length(item.media.duration or 0.0, cfg.clip, guidance)
    # 3. the user's preference, the bridge, the look judge
    ctx, look_note = edit_context(ws, user_id, guidance, cfg, op)
    # 4. the op writes the new item
    if op == "regenerate":  # the creator's model re-makes the cover
        from generec.editor.regenerate import RegenerateEditor

        generator, frames, _ = (settings or CreatorSettings()).load(ws)
        result = RegenerateEditor(ctx, generator, frames, cfg.regenerate)(item, guidance)
    else:
        ops: dict[str, Any] = {"cover": CoverEditor(ctx, cfg.cover), "clip": ClipEditor(ctx, cfg.clip), "style": StyleEditor(ctx, cfg.style)}
        result = ops[op](item, guidance)
    if look_note:
        result.notes.append(look_note)
    return result


def create(
    ws: Workspace,
    user_id: str,
    instruction: str | None = None,
    guidance: Guidance | None = None,
    n: int = 1,
    config: EditConfig | None = None,
    create_config=None,
    settings: CreatorSettings | None = None,
) -> list:
    """`n` new AI-created items for `user_id` (`creator/creator.py`), from an instruction or guidance."""
    from generec.creator.creator import CreateConfig, Creator, blocked_terms, duration_for

    cfg, ccfg, st = config or EditConfig(), create_config or CreateConfig(), settings or CreatorSettings()
    # 1. check inputs; blocked or impossible requests fail before any model loads
    check_user(ws, user_id)
    if instruction is not None and guidance is not None:
        raise InputError("give an instruction or a guidance object, not both")
    if instruction is not None:
        guidance = parse_instruction(ws, instruction)
    if guidance is not None:
        if hits := blocked_terms(guidance, ccfg.blocked):
            raise InputError(f"the instruction asks for blocked content ({', '.join(hits)}); nothing was created")
        duration_for(guidance, ccfg)
    # 2. the creator (loaded once per process) and the user's context
    generator, frames, model = st.load(ws)
    ctx, _ = edit_context(ws, user_id, guidance, cfg, "create")
    # 3. create
    return Creator(ctx, generator, frames, ccfg, model)(guidance, n)
