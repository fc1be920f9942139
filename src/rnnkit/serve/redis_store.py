"""The shared state store: Redis, for several server processes (or machines) serving one set of series.

Each series is one string under `<prefix>:s:<id>` holding its record's bytes (step, state, mark, output;
see records.py): a batch is read with one MGET and written by one Lua script, which applies each record
only where the stored step is still the expected one (Redis runs a script atomically), so two servers
stepping the same series cannot both apply. Durability is Redis's own: a step is acknowledged once Redis
holds it; run Redis with `appendonly yes` and `appendfsync always` if acknowledged steps must survive
Redis itself going down.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy as np

from .records import StateStoreError, check_ids, meta_mismatch, record_dtype

# KEYS: the series; ARGV[1]: record size, ARGV[2]: the records, ARGV[3]: the expected steps (int64 LE each).
_COMMIT = """
local size, blob, expected = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local none = string.rep('\\0', 8)
local lost = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GETRANGE', key, 0, 7)
  if current == '' then current = none end
  if current == string.sub(expected, (i - 1) * 8 + 1, i * 8) then
    redis.call('SET', key, string.sub(blob, (i - 1) * size + 1, i * size))
  else
    table.insert(lost, i - 1)
  end
end
return lost
"""


class RedisStore:
    def __init__(self, url: str):
        try:
            import redis  # noqa: PLC0415 - optional: only the Redis store needs it
        except ImportError:
            raise StateStoreError("the Redis state store needs redis-py: pip install redis (or rnnkit[redis]).") from None
        parts = urlsplit(url)
        self.prefix = parse_qs(parts.query).get("prefix", ["rnnkit"])[0]
        clean = parts._replace(query="").geturl()
        self.description = f"redis://{parts.hostname}:{parts.port or 6379}{parts.path or '/0'} prefix {self.prefix!r}"
        self._redis = redis.Redis.from_url(clean, socket_timeout=30, socket_connect_timeout=10)
        try:
            self._redis.ping()
        except redis.RedisError as e:
            raise StateStoreError(f"cannot reach the Redis state store at {self.description}: {e}. Start Redis or "
                                  "fix --state redis://host:port/db.") from None
        self._commit = self._redis.register_script(_COMMIT)
        self._dtype: np.dtype | None = None

    def _key(self, series_id: str) -> str:
        return f"{self.prefix}:s:{series_id}"

    def check(self, signature: str, width: int, outputs: int, replay=None) -> None:
        meta = f"{self.prefix}:meta"
        if self._redis.hexists(meta, "signature") and not self._redis.hexists(meta, "outputs"):
            raise StateStoreError(f"Redis {self.description} holds states written by an older rnnkit serve (one "
                                  "hash per series); use another prefix (redis://...?prefix=NAME) or database.")
        for key, value in (("signature", signature), ("width", str(width)), ("outputs", str(outputs))):
            self._redis.hsetnx(meta, key, value)
        stored = {k.decode(): v.decode() for k, v in self._redis.hgetall(meta).items()}
        if (stored.get("signature"), stored.get("width"), stored.get("outputs")) != (signature, str(width), str(outputs)):
            raise meta_mismatch(f"Redis {self.description}", stored.get("signature"), signature,
                                stored.get("width"), width)
        self._dtype = record_dtype(width, outputs)

    def rows(self, ids: list[str]) -> np.ndarray:
        if not ids:
            return np.zeros(0, self._dtype)
        none = bytes(self._dtype.itemsize)
        found = self._redis.mget([self._key(sid) for sid in ids])
        return np.frombuffer(b"".join(v or none for v in found), self._dtype).copy()

    def commit(self, ids: list[str], expected: np.ndarray, records: np.ndarray, x=None) -> np.ndarray:
        """`x` (the inputs) is not used: every server reads a series' state from Redis, so states are kept."""
        check_ids(ids)
        lost = np.zeros(len(ids), bool)
        if ids:
            failed = self._commit(keys=[self._key(sid) for sid in ids],
                                  args=[self._dtype.itemsize, np.ascontiguousarray(records, self._dtype).tobytes(),
                                        np.ascontiguousarray(expected, "<i8").tobytes()])
            lost[[int(i) for i in failed]] = True
        return lost

    def delete(self, series_id: str) -> None:
        self._redis.delete(self._key(series_id))

    def sync(self) -> None:
        """Nothing to wait for: a Redis write is as durable as the server's appendfsync makes it when
        the write returns."""

    def close(self) -> None:
        self._redis.close()
