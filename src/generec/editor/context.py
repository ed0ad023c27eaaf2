"""What an edit or a creation for one user is judged by: their preference, the text→image bridge
and their look judge (`edit_context`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from generec.editor.base import EditContext
from generec.editor.concept_head import TooFewTags
from generec.editor.look_judge import LookJudge, LookJudgeConfig, look_classifier, look_taste
from generec.editor.preference import (
    SOURCES,
    Preference,
    catalogue_center,
    concept_head,
    history_covers,
    retriever_preference,
)
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.workspace import Workspace


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


def edit_context(ws: Workspace, user_id: str, guidance: Guidance | None, cfg, op: str) -> tuple[EditContext, str | None]:
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
