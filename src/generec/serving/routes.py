"""The routes: thin shells over `GeneRec` and the workspace's repositories (no model code)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Header, HTTPException, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from pydantic import ValidationError

from generec.errors import NotFoundError
from generec.pipeline import FeedbackEvent
from generec.serving.app import STATIC, Service
from generec.serving.auth import COOKIE, SESSION_S, key_from_headers, principal_name, read_session, sign_session
from generec.serving.schemas import EventIn, FeedbackBatch, InstructIn, feed_json, item_json
from generec.store.api_keys import Principal
from generec.types import Item, Origin

router = APIRouter()


# -- dependencies -----------------------------------------------------------------------------------


def service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]


def caller(
    request: Request,
    svc: ServiceDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The principal of the request's key (header) or session cookie; 401 without one, 429 over
    the rate limit."""
    key = key_from_headers(authorization, x_api_key)
    if key is not None:
        principal = svc.ws.api_keys.lookup(key)
    else:
        token = request.cookies.get(COOKIE)
        principal = read_session(svc.secret, token) if token else None
        if principal is not None and not svc.ws.api_keys.active(principal.key_hash):
            principal = None  # signed in with a key since revoked
    if principal is None:
        what = "the API key was not accepted" if key else "sign in: send the header Authorization: Bearer <key>"
        raise HTTPException(401, what, headers={"WWW-Authenticate": "Bearer"})
    wait = svc.limiter.take(principal_name(principal))
    if wait > 0:
        raise HTTPException(429, f"over the rate limit of {svc.limiter.rate:g} requests a second", headers={"Retry-After": str(max(1, round(wait)))})
    return principal


Caller = Annotated[Principal, Depends(caller)]


def the_user(p: Principal, asked: str | None = None) -> str:
    """The user whose data the request reads: a user key reads only its own; an admin names one."""
    if p.is_admin:
        if not asked:
            raise HTTPException(403, "an admin key has no feed of its own: name the user (?user=...)")
        return asked
    if asked is not None and asked != p.user_id:
        raise HTTPException(403, "a user's key reads only that user's data")
    return p.user_id


def require_admin(p: Principal) -> None:
    if not p.is_admin:
        raise HTTPException(403, "this needs an admin key")


def visible_item(svc: Service, p: Principal, item_id: str) -> Item:
    """A catalogue item, or an AI item made for the caller (admins see all); else 404."""
    if p.is_admin:
        item = svc.ws.items.get(item_id)
        if item is None:
            raise NotFoundError(f"unknown item {item_id!r}")
        return item
    return svc.loop.visible(p.user_id, item_id)


# -- health, session ----------------------------------------------------------------------------------


@router.get("/health", tags=["service"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.post("/v1/session", tags=["session"])
def sign_in(p: Caller, svc: ServiceDep, response: Response) -> dict[str, Any]:
    """Exchange a key (header) for the web page's signed session cookie."""
    response.set_cookie(COOKIE, sign_session(svc.secret, p), max_age=SESSION_S, httponly=True, samesite="strict",
                        secure=svc.config.secure_cookie, path="/")  # fmt: skip
    return {"user_id": p.user_id, "role": p.role}


@router.delete("/v1/session", tags=["session"])
def sign_out(response: Response) -> dict[str, bool]:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return {"signed_out": True}


@router.get("/v1/me", tags=["session"])
def me(p: Caller) -> dict[str, Any]:
    return {"user_id": p.user_id, "role": p.role}


# -- the loop -----------------------------------------------------------------------------------------


@router.get("/v1/feed", tags=["feed"])
async def feed(
    p: Caller,
    svc: ServiceDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    session: Annotated[str, Query(min_length=1, max_length=100)] = "default",
    user: Annotated[str | None, Query(max_length=200, description="admin keys only: whose feed")] = None,
) -> dict[str, Any]:
    """The user's feed now: retrieved, repurposed and created items, each labelled."""
    result, shown = await svc.compute(_feed, svc, the_user(p, user), k, None, session)
    return JSONResponse(shown)  # already JSON-ready: no response-model pass


def _feed(svc: Service, user: str, k: int, instruction: str | None, session: str | None):
    """The loop's feed and its JSON, both off the event loop (they read the database)."""
    result = svc.loop.feed(user, k, instruction, session)
    for e in result.items:
        svc.metrics.feed_items.labels(e.origin, e.way).inc()
    return result, feed_json(svc.ws, result)


@router.post("/v1/instruct", tags=["feed"])
async def instruct(body: InstructIn, p: Caller, svc: ServiceDep) -> dict[str, Any]:
    """An instruction: the guidance in words (or a clarifying question) and the feed it asks for."""
    result, shown = await svc.compute(_feed, svc, the_user(p), body.k, body.text, body.session)
    return JSONResponse({"guidance": shown["guidance"], "feed": shown})


@router.post("/v1/feedback", tags=["feed"])
def feedback(p: Caller, svc: ServiceDep, payload: Annotated[Any, Body()]) -> dict[str, int]:
    """One event `{item_id, event, value?, id?}` or a batch `{"events": [...]}`, stored at once."""
    user = the_user(p)
    try:
        events = FeedbackBatch.model_validate(payload).events if isinstance(payload, dict) and "events" in payload else [EventIn.model_validate(payload)]
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    result = svc.loop.feedback_many(user, [FeedbackEvent(e.item_id, e.event, e.value, e.id, "api") for e in events])
    for e in events:
        svc.metrics.feedback.labels(e.event).inc()
    return {"stored": result.stored, "duplicates": result.duplicates}


@router.get("/v1/history", tags=["feed"])
def history(p: Caller, svc: ServiceDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> dict[str, Any]:
    return _history(svc, the_user(p), limit)


@router.get("/v1/users/{user_id}/history", tags=["feed"])
def user_history(user_id: str, p: Caller, svc: ServiceDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> dict[str, Any]:
    who = the_user(p, user_id)
    if svc.ws.users.get(who) is None:
        raise NotFoundError(f"unknown user {who!r}")
    return _history(svc, who, limit)


def _history(svc: Service, user: str, limit: int) -> dict[str, Any]:
    events = svc.ws.interactions.for_user(user, last=limit)
    return {"user_id": user, "events": [{"item_id": e.item_id, "event": str(e.event), "value": e.value, "ts": e.ts, "source": e.source} for e in events]}


# -- items ----------------------------------------------------------------------------------------------


@router.get("/v1/items/{item_id}", tags=["items"])
def item(item_id: str, p: Caller, svc: ServiceDep) -> dict[str, Any]:
    """Metadata, provenance, the fidelity report and (for AI items) the C2PA manifest's state."""
    found = visible_item(svc, p, item_id)
    return item_json(found, _c2pa(svc, found) if found.origin != Origin.HUMAN else None)


def _c2pa(svc: Service, item: Item) -> dict | None:
    """The manifest's reading (cached per content hash: media files never change)."""
    from generec.fidelity.c2pa_manifest import read_manifest
    from generec.fidelity.keys import load_keys

    parent = svc.ws.items.get(item.parent_id) if item.parent_id else None
    own_video = item.media is not None and (parent is None or parent.media is None or parent.media.hash != item.media.hash)
    media = item.media if own_video else item.cover
    if media is None:
        return None
    if media.hash not in svc.c2pa_cache:
        try:
            reading = read_manifest(svc.ws.media_path(media.hash, media.mime), load_keys(svc.ws.root).root_pem)
            svc.c2pa_cache[media.hash] = {"state": reading.state, "summary": reading.message, "action": reading.action,
                                          "signer": reading.signer, "file": "video" if own_video else "cover"}  # fmt: skip
        except Exception as exc:  # no keys, an unreadable file: say so, never fail the item
            return {"state": "unknown", "summary": f"could not read the manifest: {exc}"}
    return svc.c2pa_cache[media.hash]


@router.get("/v1/items/{item_id}/media", tags=["items"])
def media(item_id: str, p: Caller, svc: ServiceDep) -> FileResponse:
    """The video (HTTP range requests: browsers seek in it)."""
    found = visible_item(svc, p, item_id)
    if found.media is None:
        raise NotFoundError(f"item {item_id!r} has no media")
    return FileResponse(svc.ws.media_path(found.media.hash, found.media.mime), media_type=found.media.mime)


@router.get("/v1/items/{item_id}/cover", tags=["items"])
def cover(item_id: str, p: Caller, svc: ServiceDep) -> FileResponse:
    found = visible_item(svc, p, item_id)
    if found.cover is None:
        raise NotFoundError(f"item {item_id!r} has no cover")
    return FileResponse(svc.ws.media_path(found.cover.hash, found.cover.mime), media_type=found.cover.mime)


@router.get("/v1/items/{item_id}/similar", tags=["items"])
def similar(item_id: str, p: Caller, svc: ServiceDep, k: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """Item-to-item: what the current retriever ranks for someone who liked this item."""
    found = visible_item(svc, p, item_id)
    model = svc.loop.retriever()
    if model is None:
        raise HTTPException(503, "no trained retriever in this workspace; run `generec train`")
    anchor = found.id if found.origin == Origin.HUMAN else found.parent_id
    if anchor not in model.data_.item_index:
        return {"item_id": found.id, "items": [], "note": "the retriever was trained before this item existed"}
    rec = model.recommend_for_vector(model.fold_in([anchor]), min(k, model.data_.n_items - 1), exclude=[anchor])
    items = {i: svc.ws.items.get(i) for i in (s.item_id for s in rec.items)}
    return {"item_id": found.id, "items": [{"item_id": s.item_id, "score": s.score, "title": items[s.item_id].title if items[s.item_id] else ""} for s in rec.items]}


@router.post("/v1/items", tags=["admin"], status_code=201)
def add_item(
    p: Caller,
    svc: ServiceDep,
    item_id: Annotated[str, Form(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")],
    title: Annotated[str, Form(max_length=500)] = "",
    tags: Annotated[str, Form(max_length=2000, description="separated by | ; or ,")] = "",
    text: Annotated[str, Form(max_length=10_000)] = "",
    uploader: Annotated[str, Form(max_length=200)] = "",
    file: Annotated[UploadFile | None, File(description="the video or image")] = None,
) -> dict[str, Any]:
    """Add a catalogue item with its media, checked like an import (`generec data import`)."""
    import pandas as pd

    from generec.store.importer import import_data

    require_admin(p)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        name = ""
        if file is not None:
            suffix = Path(file.filename or "").suffix.lower()[:8] or ".bin"
            name = f"upload{suffix}"
            with open(root / name, "wb") as out:
                while chunk := file.file.read(1 << 20):
                    out.write(chunk)
        pd.DataFrame([{"item_id": item_id, "title": title, "tags": tags, "text": text, "uploader": uploader, "media": name}]).to_csv(root / "items.csv", index=False)
        pd.DataFrame(columns=["user_id", "item_id", "timestamp"]).to_csv(root / "inter.csv", index=False)
        import_data(svc.ws, root / "items.csv", root / "inter.csv", media_dir=root)
    added = svc.ws.items.get(item_id)
    return item_json(added, None)


@router.get("/metrics", tags=["admin"], response_class=PlainTextResponse)
def metrics(p: Caller, svc: ServiceDep) -> Response:
    """Prometheus text: requests and latency per route, feed composition, fidelity verdicts."""
    require_admin(p)
    return Response(svc.metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")
