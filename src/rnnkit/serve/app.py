"""The HTTP face of a `Service`: FastAPI routes, checks on every input, bearer tokens, metrics.

Routes (OpenAPI docs at /docs):
    POST /v1/series/{id}/step    {"x": [f1, ..., fF], "step": k}  -> {"y": [...], "step": k + 1}
    POST /v1/step                {id: [f1, ...] or {"x": [...], "step": k}, ...} -> per-series results
    POST /v1/series/{id}/prime   {"x": [[...], ...], "step": k}   -> last y, step k + T
    POST /v1/series/{id}/reset   -> {"step": 0}
    GET  /v1/series/{id}         -> {"step": n, "states": {"lstm_1.h": [...], ...}}
    GET  /v1/model, /healthz, /metrics
A step number that is not the server's is answered 409 with the server's `step`.
"""

from __future__ import annotations

import secrets
import time
from contextlib import asynccontextmanager
from typing import Annotated, Union

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, RootModel

from .bodies import SERIES_ID, BadInput, matrix
from .hot import HotRoutes, openapi_paths
from .metrics import Metrics
from .service import Conflict, Service

Value = Annotated[float, Field(allow_inf_nan=False)]
SeriesId = Annotated[str, Path(pattern=SERIES_ID, description="letters, digits and . _ : - (1-128, first a "
                                                              "letter or digit)")]


class StepIn(BaseModel):
    x: list[Value] = Field(description="one step's features")
    step: int | None = Field(None, ge=0, description="the step number the client believes comes next; omit "
                                                     "to accept any")


class PrimeIn(BaseModel):
    x: list[list[Value]] = Field(description="the known history, time steps x features")
    step: int | None = Field(None, ge=0)


class ManyIn(RootModel[dict[str, Union[list[Value], StepIn]]]):
    """{series id: features, or {"x": features, "step": k}}"""


class _BodyLimit:
    """Answer 413 before reading more than `limit` bytes of a request body (declared or streamed)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(limit, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(limit, send)


class _JsonBody:
    """Read a POST body as JSON when the client did not say what it is: curl's `-d` sends
    application/x-www-form-urlencoded, and every body of this API is JSON (a body that is not JSON still
    gets 422)."""

    _PLAIN = (b"", b"application/x-www-form-urlencoded", b"text/plain")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
            if kind in self._PLAIN:
                scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        return await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _too_large(limit: int, send) -> None:
    body = (b'{"detail": "request body larger than %d bytes; send fewer series or steps per request"}' % limit)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Timing:
    """Count requests and time them per route template (not per series id)."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(label, str(status[0])).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - started)


def create_app(service: Service, token: str | None = None, model_name: str = "model",
               max_body: int = 1 << 20, max_body_many: int = 64 << 20, max_series: int = 100_000,
               max_prime_steps: int = 100_000) -> FastAPI:
    engine, metrics = service.engine, service.metrics or Metrics()
    service.metrics = metrics

    @asynccontextmanager
    async def lifespan(_app):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    async def authorized(request: Request) -> None:  # async: no thread hop per request
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})

    app = FastAPI(title="rnnkit serve", version="1", lifespan=lifespan,
                  description=f"Stateful streaming inference for {model_name}: each series' recurrent state is "
                              f"kept in {service.store.description}.")
    guarded = [Depends(authorized)]

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming where and what, without echoing the input back (it may be large, or NaN, which JSON
        cannot carry)."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()[:20]]
        return JSONResponse({"detail": errors}, status_code=422)

    def conflict(e: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(e), "step": e.step}, status_code=409)

    def answer(outcome) -> JSONResponse:
        metrics.series_steps.inc()
        body = {"y": outcome.y, "step": outcome.step}
        if outcome.replayed:
            body["replayed"] = True
        return JSONResponse(body, headers={"Idempotent-Replayed": "true"} if outcome.replayed else None)

    @app.post("/v1/series/{series_id}/prime", dependencies=guarded,
              summary="Feed a known history to one series (many steps at once)")
    async def prime(series_id: SeriesId, body: PrimeIn):
        if not body.x or len(body.x) > max_prime_steps:
            raise HTTPException(422, f"x must hold 1 to {max_prime_steps} time steps, received {len(body.x)}.")
        try:
            x = matrix(body.x, engine.features, f"series {series_id!r}")
        except BadInput as e:
            raise HTTPException(422, str(e)) from None
        try:
            return answer(await service.prime(series_id, x, body.step))
        except Conflict as e:
            return conflict(e)

    @app.post("/v1/series/{series_id}/reset", dependencies=guarded, summary="Zero one series' state")
    async def reset(series_id: SeriesId):
        await service.reset(series_id)
        return {"step": 0}

    @app.get("/v1/series/{series_id}", dependencies=guarded, summary="Read one series' step number and state")
    async def read(series_id: SeriesId):
        step, states = await service.read(series_id)
        return {"step": step, "states": states}

    @app.get("/v1/model", dependencies=guarded, summary="Features in, outputs out, state names and widths")
    async def model_info():
        return {"name": model_name, **engine.describe()}

    @app.get("/healthz", summary="Liveness: the model is loaded and the store answers")
    async def health():
        await service.read("healthz-probe")
        return {"status": "ok"}

    @app.get("/metrics", dependencies=guarded, summary="Prometheus metrics")
    async def prometheus():
        return Response(metrics.render(), media_type=metrics.content_type)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            refs = "#/components/schemas/{model}"
            many = ManyIn.model_json_schema(ref_template=refs)
            parts = schema.setdefault("components", {}).setdefault("schemas", {})
            parts.update(many.pop("$defs", {}), StepIn=StepIn.model_json_schema(ref_template=refs))
            schema["paths"].update(openapi_paths({"$ref": refs.format(model="StepIn")}, many, engine.features))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    app.add_middleware(_Timing, metrics=metrics)
    app.add_middleware(_BodyLimit, limit=max_body)
    app.add_middleware(_JsonBody)
    app.add_middleware(HotRoutes, service=service, metrics=metrics, token=token, max_body=max_body,
                       max_body_many=max_body_many, max_series=max_series)
    return app

