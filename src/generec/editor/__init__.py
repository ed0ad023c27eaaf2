"""The AI editor: repurpose a catalogue video for one user (GeneRec's AI editor).

- `keyframes`: one decode pass -> shots, quality guard, one encoded keyframe per shot part;
- `preference`: the user's visual taste (User_Hist, concepts, User_Emb) and guidance steering;
- `concept_head`: image features -> the catalogue's tags, the space the `concepts` taste lives in;
- `looks`: the editor's own renders of each look (white balance, tone curves, chroma, cartoon, sketch);
- `look_judge`: which look makes a user click, learned from impressions;
- `cover`, `clip`, `style`: the ops, each `Op(context)(item, guidance) -> EditResult`;
- `base`: the context, the result, and how an edit becomes a stored AI-edited item.
"""
