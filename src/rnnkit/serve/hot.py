"""The two stepping routes, answered at the ASGI level: the requests a live feed sends all day.

`POST /v1/series/{id}/step` and `POST /v1/step` skip the framework's routing, dependency and validation
layers (which cost more per request than the model step itself) but keep its contract: the same bearer
token, body limit (413), JSON errors (422 per series), step-number conflicts (409 with the server's step),
request metrics, and their OpenAPI description (`openapi_paths`). Every other route goes to FastAPI.
"""

from __future__ import annotations

import logging
import secrets
import time

import numpy as np
import orjson

from .bodies import SERIES_ID, BadInput, check_id, columns, many_steps, one_step, read_json
from .service import CONFLICT, FAILED, REPLAYED, Conflict, Service

ONE, MANY = "/v1/series/{series_id}/step", "/v1/step"
_LOG = logging.getLogger("rnnkit.serve")
_JSON = (b"content-type", b"application/json")


class HotRoutes:
    def __init__(self, app, service: Service, metrics, token: str | None, max_body: int, max_body_many: int,
                 max_series: int):
        self.app, self.service, self.metrics = app, service, metrics
        self.features = service.engine.features
        self.expected_auth = f"Bearer {token}".encode() if token else None
        self.max_body, self.max_body_many, self.max_series = max_body, max_body_many, max_series
        self._requests = {}  # (route, status) -> labelled counter

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == MANY:
                return await self._answer(MANY, None, scope, receive, send)
            if path.startswith("/v1/series/") and path.endswith("/step") and path.count("/") == 4:
                return await self._answer(ONE, path[len("/v1/series/"):-len("/step")], scope, receive, send)
        return await self.app(scope, receive, send)

    async def _answer(self, route: str, series_id: str | None, scope, receive, send) -> None:
        started = time.perf_counter()
        status, body, headers = await self._handle(route, series_id, scope, receive)
        await send({"type": "http.response.start", "status": status,
                    "headers": [_JSON, (b"content-length", str(len(body)).encode()), *headers]})
        await send({"type": "http.response.body", "body": body})
        counter = self._requests.get((route, status))
        if counter is None:
            counter = self._requests[route, status] = self.metrics.requests.labels(route, str(status))
        counter.inc()
        self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    async def _handle(self, route: str, series_id: str | None, scope, receive) -> tuple[int, bytes, list]:
        if self.expected_auth is not None:
            given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not secrets.compare_digest(given, self.expected_auth):
                return 401, _detail("missing or wrong bearer token: send 'Authorization: Bearer <token>'"), \
                    [(b"www-authenticate", b"Bearer")]
        limit = self.max_body_many if route == MANY else self.max_body
        raw = await _read(scope, receive, limit)
        if raw is None:
            return 413, _detail(f"request body larger than {limit} bytes; send fewer series or steps per "
                                "request"), []
        try:
            if route == ONE:
                check_id(series_id)
                return await self._one(series_id, raw)
            layout = scope["query_string"]
            if layout in (b"", b"layout=ids"):
                return await self._many(raw)
            if layout == b"layout=columns":
                return await self._columns(raw)
            raise BadInput(f"the query may only be layout=ids (the default) or layout=columns, received "
                           f"{layout[:100].decode(errors='replace')!r}.")
        except BadInput as e:
            return 422, _detail(str(e)), []
        except Exception as e:  # noqa: BLE001 - the store or the worker failed: nothing acknowledged
            _LOG.exception("rnnkit serve: a %s request failed", route)
            return 503, _detail(f"not acknowledged: {type(e).__name__}: {e}; retry the request with the same step "
                                "numbers (a step the store kept anyway is answered from the store, never "
                                "applied twice)."), [(b"retry-after", b"1")]

    async def _one(self, series_id: str, raw: bytes) -> tuple[int, bytes, list]:
        x, k = one_step(read_json(raw), self.features, f"series {series_id!r}")
        try:
            outcome = await self.service.step(series_id, x, None if k < 0 else k)
        except Conflict as e:
            return 409, orjson.dumps({"detail": str(e), "step": e.step}), []
        self.metrics.series_steps.inc()
        if outcome.replayed:
            return 200, orjson.dumps({"y": outcome.y, "step": outcome.step, "replayed": True}), \
                [(b"idempotent-replayed", b"true")]
        return 200, orjson.dumps({"y": outcome.y, "step": outcome.step}), []

    async def _many(self, raw: bytes) -> tuple[int, bytes, list]:
        ids, x, expected, errors = many_steps(read_json(raw), self.features, self.max_series)
        answers = await self.service.step_many(ids, x, expected)
        ys, steps, status = answers.y.tolist(), answers.step.tolist(), answers.status
        if not status.any():
            results = {sid: {"y": y, "step": k} for sid, y, k in zip(ids, ys, steps)}
        else:
            results = {}
            for r, sid in enumerate(ids):
                if status[r] == CONFLICT:
                    errors[sid] = {"status": 409, "step": steps[r],
                                   "detail": str(answers.conflict(r, sid, int(expected[r])))}
                elif status[r] == FAILED:
                    errors[sid] = {"status": 503, "detail": answers.failure}
                else:
                    results[sid] = {"y": ys[r], "step": steps[r], **({"replayed": True} if status[r] == REPLAYED
                                                                     else {})}
        self.metrics.series_steps.inc(len(results))
        return 200, orjson.dumps({"results": results, "errors": errors}), []


    async def _columns(self, raw: bytes) -> tuple[int, bytes, list]:
        """The bulk layout: rows in, rows out, in request order; "status" per row (200 applied or replayed,
        409 step mismatch with the server's step in "step", 503 failed), details only for rows not 200."""
        ids, x, expected = columns(read_json(raw), self.features, self.max_series)
        answers = await self.service.step_many(ids, x, expected)
        status = answers.status
        codes = np.where(status == CONFLICT, 409, np.where(status == FAILED, 503, 200)).astype(np.int16)
        errors = {}
        for r in np.flatnonzero(codes != 200).tolist():
            errors[str(r)] = (str(answers.conflict(r, ids[r], int(expected[r]))) if status[r] == CONFLICT
                              else answers.failure)
        self.metrics.series_steps.inc(int((codes == 200).sum()))
        body = {"y": answers.y, "step": answers.step, "status": codes, "errors": errors,
                "replayed": np.flatnonzero(status == REPLAYED)}
        return 200, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), []


async def _read(scope, receive, limit: int) -> bytes | None:
    """The whole body, or None past `limit` bytes (declared or streamed)."""
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _detail(text: str) -> bytes:
    return orjson.dumps({"detail": text})


def openapi_paths(step_schema: dict, many_schema: dict, features: int) -> dict:
    """The OpenAPI entries of the two routes answered here (FastAPI documents the others itself)."""
    def post(summary: str, schema: dict, parameters: list) -> dict:
        return {"post": {"summary": summary, "parameters": parameters,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
                         "responses": {"200": {"description": "answered after the new states are committed"},
                                       "409": {"description": "step number mismatch; the body holds the server's "
                                                              "\"step\""},
                                       "413": {"description": "body too large"},
                                       "422": {"description": "invalid input, said per series"}}}}

    series = [{"name": "series_id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": SERIES_ID}}]
    layout = [{"name": "layout", "in": "query", "required": False,
               "schema": {"type": "string", "enum": ["ids", "columns"], "default": "ids"},
               "description": "ids: {id: features or {x, step}} in, {results, errors} by id out. columns (bulk): "
                              "{ids, x, step} in, {y, step, status, errors, replayed} by row out."}]
    return {ONE: post(f"Step one series by one time step ({features} features)", step_schema, series),
            MANY: post("Step many series, one time step each", many_schema, layout)}
