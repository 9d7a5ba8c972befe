"""A fake CoinGecko v3 on a loopback port, with faults that tests switch on.

    fake = FakeCoinGecko().start()          # fake.base_url ends in /api/v3
    fake.set_fault("rate_limit", times=2, retry_after="1")
    ...
    fake.calls["simple_price"]              # requests per endpoint
    fake.stop()

Faults (``set_fault(name, times=None, endpoint=None, **options)``; ``times``
is how many requests it spoils, None for all of them):

- ``rate_limit``: 429 with CoinGecko's JSON body; ``retry_after`` (a string,
  or None for no header) and ``reset`` (an x-ratelimit-reset value).
- ``rate_limit_text``: 429 with the plain text ``error code: 1015``.
- ``html``: a Cloudflare-style HTML page with ``status`` (403 by default).
- ``server_error``: ``status`` (503 by default) with a plain-text body.
- ``slow``: wait ``delay`` seconds before answering normally.
- ``malformed``: the first price becomes the raw JSON token ``value``
  (``NaN``, ``Infinity``, ``1e400``, ``-5``, ``"abc"``, ``0``).
- ``extra_id``: answers carry a coin nobody asked for.
- ``history_limit``: the 401 "past 365 days" body (also sent on its own when a
  keyless or demo caller asks for older history).
- ``bad_key``: the 401 "API Key Missing" body.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fake_coingecko import data

PREFIX = "/api/v3"
RAW = "__raw_token__"
RATE_LIMIT_BODY = {
    "status": {
        "error_code": 429,
        "error_message": "You've exceeded the Rate Limit. Please visit "
        "https://www.coingecko.com/en/api/pricing to subscribe to our API plans "
        "for higher rate limits.",
    }
}
HISTORY_BODY = {
    "error": {
        "status": {
            "timestamp": "2024-03-30T07:22:29.427+00:00",
            "error_code": 10012,
            "error_message": "Your request exceeds the allowed time range. Public "
            "API users are limited to querying historical data within the past "
            "365 days.",
        }
    }
}
MISSING_KEY_BODY = {
    "status": {
        "timestamp": "2024-01-09T07:14:10.135+00:00",
        "error_code": 10002,
        "error_message": "API Key Missing",
    }
}
PRO_ON_PUBLIC_BODY = {
    "error_code": 10010,
    "status": {
        "error_message": "If you are using Pro API key, please change "
        "your root URL from api.coingecko.com to pro-api.coingecko.com"
    },
}
DEMO_ON_PRO_BODY = {
    "error_code": 10011,
    "status": {
        "error_message": "If you are using Demo API key, please change "
        "your root URL from pro-api.coingecko.com to api.coingecko.com"
    },
}
HTML_PAGES = {
    403: "<!DOCTYPE html><html><head><title>Access denied | api.coingecko.com "
    "used Cloudflare to restrict access</title></head><body>Error 1020</body></html>",
    429: "<!DOCTYPE html><html><head><title>Too Many Requests</title></head>"
    "<body>Cloudflare</body></html>",
    500: "<!DOCTYPE html><html><body><h1>Uh Oh! We're sorry, but something "
    "went wrong. (500)</h1></body></html>",
}


@dataclass
class Fault:
    name: str
    times: int | None
    endpoint: str | None
    options: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """A request as the fake received it."""

    endpoint: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


def _json(status: int, payload: Any, **headers: str) -> Answer:
    return Answer(status, json.dumps(payload), headers=headers)


class FakeCoinGecko:
    """The fake server; see the module docstring for its faults."""

    def __init__(
        self,
        *,
        host_kind: str = "public",
        demo_keys: tuple[str, ...] = (),
        pro_keys: tuple[str, ...] = (),
        calls_per_minute: int | None = None,
        now: float | None = None,
    ) -> None:
        self.host_kind = host_kind
        self.demo_keys = set(demo_keys)
        self.pro_keys = set(pro_keys)
        self.calls_per_minute = calls_per_minute
        self.now = now
        self.calls: Counter[str] = Counter()
        self.seen: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._window: tuple[int, int] = (0, 0)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- control ---------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> FakeCoinGecko:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_port}{PREFIX}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-coingecko", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeCoinGecko:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_fault(
        self,
        name: str,
        *,
        times: int | None = None,
        endpoint: str | None = None,
        **options: Any,
    ) -> None:
        with self._lock:
            self._faults.append(Fault(name, times, endpoint, options))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clock(self) -> int:
        return int(self.now if self.now is not None else time.time())

    # -- request handling --------------------------------------------------------

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                return fault
        return None

    def answer(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        endpoint, coin_id = _route(path)
        with self._lock:
            self.calls[endpoint] += 1
            self.seen.append(Seen(endpoint, path, query, headers))
        refused = self._check_key(headers) or self._check_pace()
        if refused is not None:
            return refused
        fault = self._take_fault(endpoint)
        if fault is not None:
            faulty = self._fault_answer(fault)
            if faulty is not None:
                return faulty
        return self._serve(endpoint, coin_id, query, fault)

    def _check_key(self, headers: dict[str, str]) -> Answer | None:
        demo = headers.get("x-cg-demo-api-key")
        pro = headers.get("x-cg-pro-api-key")
        if self.host_kind == "pro":
            if demo is not None:
                return _json(400, DEMO_ON_PRO_BODY)
            return None if pro in self.pro_keys else _json(401, MISSING_KEY_BODY)
        if pro is not None:
            return _json(400, PRO_ON_PUBLIC_BODY)
        if demo is not None and demo not in self.demo_keys:
            return _json(401, MISSING_KEY_BODY)
        return None

    def _check_pace(self) -> Answer | None:
        if self.calls_per_minute is None:
            return None
        minute = int(time.time()) // 60
        with self._lock:
            start, count = self._window
            count = count + 1 if start == minute else 1
            self._window = (minute, count)
        if count <= self.calls_per_minute:
            return None
        return _json(429, RATE_LIMIT_BODY, **{"retry-after": "60"})

    def _fault_answer(self, fault: Fault) -> Answer | None:
        options = fault.options
        if fault.name == "rate_limit":
            headers = {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0"}
            if options.get("retry_after", "1") is not None:
                headers["retry-after"] = str(options.get("retry_after", "1"))
            if options.get("reset"):
                headers["x-ratelimit-reset"] = str(options["reset"])
            return _json(429, RATE_LIMIT_BODY, **headers)
        if fault.name == "rate_limit_text":
            return Answer(429, "error code: 1015", "text/plain; charset=UTF-8")
        if fault.name == "html":
            status = int(options.get("status", 403))
            page = HTML_PAGES.get(status, HTML_PAGES[500])
            return Answer(status, page, "text/html; charset=UTF-8")
        if fault.name == "server_error":
            status = int(options.get("status", 503))
            return Answer(status, "Service Unavailable", "text/plain")
        if fault.name == "slow":
            self._stopping.wait(float(options.get("delay", 1.0)))
        if fault.name == "history_limit":
            return _json(401, HISTORY_BODY)
        if fault.name == "bad_key":
            return _json(401, MISSING_KEY_BODY)
        return None

    def _serve(
        self,
        endpoint: str,
        coin_id: str | None,
        query: dict[str, str],
        fault: Fault | None,
    ) -> Answer:
        if endpoint == "ping":
            return _json(200, {"gecko_says": "(V3) To the Moon!"})
        if endpoint == "coins_list":
            return _json(
                200,
                [{"id": c.id, "symbol": c.symbol, "name": c.name} for c in data.COINS],
            )
        if endpoint == "simple_price":
            return self._simple_price(query, fault)
        if endpoint == "coins_markets":
            return self._markets(query, fault)
        if endpoint == "market_chart_range" and coin_id is not None:
            return self._chart(coin_id, query, fault)
        return _json(
            404,
            {"error": "Incorrect path. Please check https://www.coingecko.com/api/"},
        )

    def _simple_price(self, query: dict[str, str], fault: Fault | None) -> Answer:
        if not query.get("vs_currencies"):
            return _json(400, {"error": "Missing parameter vs_currencies"})
        ids = [i for i in query.get("ids", "").split(",") if i]
        currencies = query["vs_currencies"].split(",")
        at = self.clock() // 60 * 60
        payload: dict[str, Any] = {}
        for coin_id in ids:
            coin = data.BY_ID.get(coin_id)
            if coin is None or coin.usd == 0:
                continue
            fields: dict[str, Any] = {}
            for vs in currencies:
                if vs in data.FX:
                    fields.update(_quote_fields(coin_id, vs, at))
            if fields:
                fields["last_updated_at"] = at
            payload[coin_id] = fields
        if fault is not None and fault.name == "extra_id" and payload:
            payload["unasked-coin"] = dict(next(iter(payload.values())))
        return self._with_raw(payload, fault, _first_price_slot(payload, currencies))

    def _markets(self, query: dict[str, str], fault: Fault | None) -> Answer:
        vs = query.get("vs_currency", "")
        if vs not in data.FX:
            return _json(400, {"error": "invalid vs_currency"})
        at = self.clock()
        wanted = [i for i in query.get("ids", "").split(",") if i]
        priced = sorted(
            (c for c in data.COINS if c.usd > 0),
            key=lambda c: -data.market_cap_of(c.id, "usd", at),
        )
        ranked = list(enumerate(priced, start=1))  # ranks are global, as upstream
        if wanted and not (fault is not None and fault.name == "extra_id"):
            ranked = [(rank, c) for rank, c in ranked if c.id in wanted]
        per_page = min(250, max(1, int(query.get("per_page", "100"))))
        page = max(1, int(query.get("page", "1")))
        ranked = ranked[(page - 1) * per_page : page * per_page]
        stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        rows = [
            {
                "id": c.id,
                "symbol": c.symbol,
                "name": c.name,
                "current_price": data.price_of(c.id, vs, at),
                "market_cap": data.market_cap_of(c.id, vs, at),
                "market_cap_rank": rank if c.supply > 10_000 else None,
                "total_volume": data.volume_of(c.id, vs, at),
                "price_change_percentage_24h": data.change_of(c.id, vs, at),
                "roi": None,
                "last_updated": stamp,
            }
            for rank, c in ranked
        ]
        slot = (0, "current_price") if rows else None
        return self._with_raw(rows, fault, slot)

    def _chart(
        self, coin_id: str, query: dict[str, str], fault: Fault | None
    ) -> Answer:
        coin = data.BY_ID.get(coin_id)
        if coin is None:
            return _json(404, {"error": "coin not found"})
        vs = query.get("vs_currency", "")
        if vs not in data.FX:
            return _json(400, {"error": "invalid vs_currency"})
        try:
            start, end = int(query["from"]), int(query["to"])
        except (KeyError, ValueError):
            return _json(400, {"error": "Missing parameter from or to"})
        now = self.clock()
        if self.host_kind == "public" and start < now - data.YEAR - 86_400:
            return _json(401, HISTORY_BODY)
        step = data.step_for(end - start)
        first = -(-start // step) * step
        times = range(first, min(end, now) + 1, step)
        jitter = 137 if step == 300 else 0
        payload = {
            "prices": [
                [t * 1000 + jitter, data.price_of(coin_id, vs, t)] for t in times
            ],
            "market_caps": [
                [t * 1000 + jitter, data.market_cap_of(coin_id, vs, t)] for t in times
            ],
            "total_volumes": [
                [t * 1000 + jitter, data.volume_of(coin_id, vs, t)] for t in times
            ],
        }
        slot = ("prices", 0, 1) if times else None
        return self._with_raw(payload, fault, slot)

    @staticmethod
    def _with_raw(
        payload: Any, fault: Fault | None, slot: tuple[Any, ...] | None
    ) -> Answer:
        if fault is None or fault.name != "malformed" or slot is None:
            return _json(200, payload)
        target = payload
        for key in slot[:-1]:
            target = target[key]
        target[slot[-1]] = RAW
        token = str(fault.options.get("value", "NaN"))
        return Answer(200, json.dumps(payload).replace(f'"{RAW}"', token, 1))


def _quote_fields(coin_id: str, vs: str, at: int) -> dict[str, Any]:
    return {
        vs: data.price_of(coin_id, vs, at),
        f"{vs}_market_cap": data.market_cap_of(coin_id, vs, at),
        f"{vs}_24h_vol": data.volume_of(coin_id, vs, at),
        f"{vs}_24h_change": data.change_of(coin_id, vs, at),
    }


def _first_price_slot(
    payload: dict[str, Any], currencies: list[str]
) -> tuple[str, str] | None:
    for coin_id, fields in payload.items():
        for vs in currencies:
            if vs in fields:
                return (coin_id, vs)
    return None


def _route(path: str) -> tuple[str, str | None]:
    if not path.startswith(PREFIX):
        return "unknown", None
    rest = path[len(PREFIX) :].rstrip("/")
    simple = {
        "/ping": "ping",
        "/simple/price": "simple_price",
        "/coins/list": "coins_list",
        "/coins/markets": "coins_markets",
    }
    if rest in simple:
        return simple[rest], None
    parts = rest.split("/")
    if (
        len(parts) == 5
        and parts[1] == "coins"
        and parts[3:] == ["market_chart", "range"]
    ):
        return "market_chart_range", unquote(parts[2])
    return "unknown", None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCoinGecko
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        if self.fake._stopping.is_set():
            self.close_connection = True  # a stopped server answers nothing
            return
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        headers = {key.lower(): value for key, value in self.headers.items()}
        answer = self.fake.answer(parts.path, query, headers)
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("content-type", answer.content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
