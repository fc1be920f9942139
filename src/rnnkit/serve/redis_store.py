"""The shared state store: Redis, for several server processes (or machines) serving one set of series.

Each series is a hash under `<prefix>:s:<id>`; one Lua script applies a batch of new records where the
stored step is still the expected one (Redis runs a script atomically), so two servers stepping the same
series cannot both apply. Durability is Redis's own: a step is acknowledged once Redis holds it; run
Redis with `appendonly yes` and `appendfsync always` if acknowledged steps must survive Redis itself
going down.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .records import Record, StateStoreError, meta_mismatch

_COMMIT = """
local conflicts = {}
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 5
  local expected = tonumber(ARGV[base + 1])
  local current = tonumber(redis.call('HGET', key, 'step') or '0')
  if current == expected then
    redis.call('HSET', key, 'step', ARGV[base + 2], 'state', ARGV[base + 3], 'x', ARGV[base + 4], 'y', ARGV[base + 5])
  else
    table.insert(conflicts, i - 1)
  end
end
return conflicts
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

    def _key(self, series_id: str) -> str:
        return f"{self.prefix}:s:{series_id}"

    def check(self, signature: str, width: int) -> None:
        meta = f"{self.prefix}:meta"
        self._redis.hsetnx(meta, "signature", signature)
        self._redis.hsetnx(meta, "width", str(width))
        stored = {k.decode(): v.decode() for k, v in self._redis.hgetall(meta).items()}
        if stored.get("signature") != signature or stored.get("width") != str(width):
            raise meta_mismatch(f"Redis {self.description}", stored.get("signature"), signature,
                                stored.get("width"), width)

    def load(self, ids: list[str]) -> dict[str, Record]:
        pipe = self._redis.pipeline(transaction=False)
        for sid in ids:
            pipe.hmget(self._key(sid), "step", "state", "x", "y")
        out = {}
        for sid, (step, state, xd, y) in zip(ids, pipe.execute()):
            if step is not None:
                out[sid] = Record(int(step), state or None, xd or None, y or None)
        return out

    def commit(self, writes: list[tuple[str, int, Record]]) -> set[str]:
        keys, args = [], []
        for sid, expected, rec in writes:
            keys.append(self._key(sid))
            args += [expected, rec.step, rec.state or b"", rec.x_digest or b"", rec.y or b""]
        if not keys:
            return set()
        failed = self._commit(keys=keys, args=args)
        return {writes[int(i)][0] for i in failed}

    def delete(self, series_id: str) -> None:
        self._redis.delete(self._key(series_id))

    def close(self) -> None:
        self._redis.close()
