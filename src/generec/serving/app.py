"""`create_app(workspace, config)`: the FastAPI app over one `GeneRec` loop (routes in routes.py).

Every route is a thin shell: typed dependencies (`Caller`, `Loop`) and a call into the library.
Errors map to status codes in one place: a bad field 422, an unknown or foreign item 404, a
missing or wrong key 401, another user's data 403, a rate limit 429.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from generec.errors import FieldError, InputError, NotFoundError, WorkspaceError
from generec.pipeline import GeneRec
from generec.workspace import Workspace

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("generec.serving")


@dataclass(frozen=True)
class ServiceConfig:
    rate_limit: float = 200.0  # requests a second per key (0: off); each worker keeps its own buckets
    burst: float | None = None  # bucket size (None: twice the rate)
    max_body_bytes: int = 1 << 20  # JSON bodies
    max_upload_bytes: int = 256 << 20  # POST /v1/items
    cors_origins: tuple[str, ...] = ()  # CORS is off unless origins are named
    compute_threads: int = 2  # feeds computed at once per worker; more only thrash the GIL (docs/BENCHMARKS.md)
    secure_cookie: bool = False  # set the session cookie's Secure flag (behind HTTPS)
    warm: bool = True  # load the models before serving (the first feed does not wait for them)
    warm_items: int = 20_000  # then embed this many catalogue item texts in a background thread
    extra: dict = field(default_factory=dict)


class Service:
    """What the routes share in one process: the workspace, the loop, limits, metrics."""

    def __init__(self, ws: Workspace, config: ServiceConfig, loop: GeneRec | None = None) -> None:
        from generec.serving.auth import RateLimiter, session_secret
        from generec.serving.metrics import Metrics

        self.ws, self.config = ws, config
        self.loop = loop or GeneRec(ws)
        self.limiter = RateLimiter(config.rate_limit, config.burst)
        self.secret = session_secret(ws)
        self.metrics = Metrics(ws)
        self.c2pa_cache: dict[str, dict] = {}
        self._compute_limit = None

    async def compute(self, fn, *args):
        """`fn(*args)` on a worker thread, at most `compute_threads` at once: a feed is CPU-bound
        Python, and eight of them interleaving under the GIL finish later than two queued."""
        import anyio

        if self._compute_limit is None:
            self._compute_limit = anyio.CapacityLimiter(self.config.compute_threads)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._compute_limit)


def _detail(loc: list, msg: str, kind: str = "value_error") -> list[dict]:
    return [{"loc": loc, "msg": msg, "type": kind}]


def _lifespan(service: Service):
    """Startup: the models load before the first request is accepted (a model that does not load
    is one logged line, and the feeds load it as before: /health still answers); the catalogue's
    item texts are embedded afterwards in a thread that shutdown stops between two batches."""
    import threading
    from contextlib import asynccontextmanager

    import anyio

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop, thread = threading.Event(), None
        if service.config.warm and await anyio.to_thread.run_sync(_load_models, service):
            if service.config.warm_items > 0:
                thread = threading.Thread(target=_embed_texts, args=(service, stop), name="generec-warm", daemon=True)
                thread.start()
        yield
        stop.set()
        if thread is not None:  # one batch of texts at most; torch must not be running when the process ends
            await anyio.to_thread.run_sync(thread.join, 30.0)

    return lifespan


def _load_models(service: Service) -> bool:
    try:
        info = service.loop.warm(0)
    except Exception as exc:  # the first feed that needs it says what is wrong, as without a warm-up
        _startup_log.warning("generec: warm-up skipped, a model did not load: %s", " ".join(str(exc).split()))
        return False
    _startup_log.info("generec: models loaded in %.1f s%s", info["seconds"], "".join(f"; {n}" for n in info["notes"]))
    return True


def _embed_texts(service: Service, stop) -> None:
    try:
        done = service.loop.warm(service.config.warm_items, stop)
        _startup_log.info("generec: %d catalogue texts embedded in %.1f s", done["texts"], done["seconds"])
    except Exception as exc:  # a failed warm-up leaves the feeds to embed them
        if not stop.is_set():
            _startup_log.warning("generec: warm-up of the catalogue texts stopped: %s", " ".join(str(exc).split()))


_startup_log = logging.getLogger("uvicorn.error")  # uvicorn's own logger: printed with its startup lines


def create_app(workspace: Workspace | str | Path | None = None, config: ServiceConfig | None = None, loop: GeneRec | None = None) -> FastAPI:
    # 1. the workspace (WAL: feeds are read while feedback is written) and the loop
    cfg = config or ServiceConfig()
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace or os.environ.get("GENEREC_WORKSPACE"))
    ws.db.enable_wal()
    service = Service(ws, cfg, loop)
    # 2. the app, its error mapping and middleware
    app = FastAPI(title="generec", version="1", summary="Generative recommendation: retrieve, repurpose and create items for each user.",
                  docs_url="/docs", redoc_url=None, lifespan=_lifespan(service))  # fmt: skip
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(FieldError)
    async def bad_field(request: Request, exc: FieldError):
        return JSONResponse({"detail": _detail(["body", *exc.field.replace("]", "").replace("[", ".").split(".")], exc.reason)}, status_code=422)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError):
        return JSONResponse({"detail": _detail(["body"], str(exc))}, status_code=422)

    @app.exception_handler(WorkspaceError)
    async def busy(request: Request, exc: WorkspaceError):
        log.error("workspace error: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=503)

    from generec.serving.limits import BodyLimitMiddleware
    from generec.serving.metrics import MetricsMiddleware

    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"], allow_credentials=True)  # fmt: skip
    app.add_middleware(BodyLimitMiddleware, limit=cfg.max_body_bytes, upload_limit=cfg.max_upload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    # 3. the routes and the web page
    from fastapi.staticfiles import StaticFiles

    from generec.serving.routes import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_env() -> FastAPI:
    """The factory `generec serve --workers N` gives uvicorn: settings from the environment."""
    import json

    import torch

    torch.set_num_threads(1)  # uvicorn spawns its workers: the parent's setting does not reach them (see serve_cmd)
    settings = json.loads(os.environ.get("GENEREC_SERVICE_CONFIG", "{}"))
    if "cors_origins" in settings:
        settings["cors_origins"] = tuple(settings["cors_origins"])
    return create_app(os.environ.get("GENEREC_WORKSPACE"), ServiceConfig(**settings))
