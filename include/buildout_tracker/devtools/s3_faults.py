"""A fault-injecting S3 proxy, for tests and `make chaos`.

An HTTP server on a free loopback port that sits between the pipeline's boto3 client (its
`endpoint_url` pointed at the proxy: `FaultProxy.env()`) and a real S3 server (the local
lake). It forwards every request untouched (SigV4 signatures stay valid: the Host header is
passed as the client sent it) and records it: method, bucket, key, the S3 action's name
(`PutObject`, `ListObjectsV2`, ...), the keys of a `DeleteObjects`, the encryption headers.

Faults come from rules (`Rule`): which requests (method, S3 action, bucket, key pattern,
writes only), which of them (the nth match, or each with a probability drawn from the
proxy's seeded generator) and how many at most (per rule, and for the whole proxy). Kinds:

| fault | what the client sees | did S3 apply the request? |
|---|---|---|
| `slowdown` | 503 `SlowDown`, S3's XML error body | no |
| `internal_error` | 500 `InternalError`, S3's XML error body | no, unless `applied=True` |
| `access_denied` | 403 `AccessDenied` (a permanent fault: no retry helps) | no |
| `reset_before_response` | the connection reset (RST) before any byte of the response | yes, unless `applied=False` |
| `reset_mid_body` | the status and headers, part of the body (`keep`), then RST | yes |
| `truncated_body` | the headers with the true `Content-Length`, part of the body, then the connection closed | yes |
| `short_body` | part of the body with a `Content-Length` rewritten to match (a lying middlebox) | yes |
| `latency` | the normal response, `latency` seconds late (the request reaches S3 late too) | yes |
| `drop` | the connection reset, the request never forwarded | no |
| `pass` | nothing: only the rule's `hook` runs (to SIGKILL or SIGSTOP the client) | yes |

Body faults (`reset_mid_body`, `truncated_body`, `short_body`) only fire on a 2xx response
with a body of at least 2 bytes (there is nothing to cut otherwise). A rule's `hook`, when
given, is called with the request when the rule fires, before the fault: `make chaos` kills
a step "just before write k" with a `drop` rule whose hook SIGKILLs the step's process.

    with FaultProxy(upstream="http://127.0.0.1:9900", seed=7) as proxy:
        proxy.add(Rule("slowdown", action="PutObject", nth=1))
        client = make_client(S3Settings.from_env(proxy.env(base)))
"""

from __future__ import annotations

import contextlib
import http.client
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

FAULTS = (
    "slowdown",
    "internal_error",
    "access_denied",
    "reset_before_response",
    "reset_mid_body",
    "truncated_body",
    "short_body",
    "latency",
    "drop",
    "pass",
)
BODY_FAULTS = ("reset_mid_body", "truncated_body", "short_body")
# The default of `Rule.applied` for the faults that answer without (or before) forwarding.
_APPLIED_BY_DEFAULT = {"reset_before_response": True}
_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal_error": (500, "InternalError", "We encountered an internal error. Please try again."),
    "access_denied": (403, "AccessDenied", "Access Denied"),
}

WRITE_ACTIONS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "DeleteObject",
        "DeleteObjects",
    }
)
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
}


def s3_action(
    method: str, bucket: str, key: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """The S3 API action of a path-style request."""
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if not key:
        if method == "GET":
            for name, action in (
                ("uploads", "ListMultipartUploads"),
                ("location", "GetBucketLocation"),
                ("versions", "ListObjectVersions"),
            ):
                if name in query:
                    return action
            return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(
            method, f"{method} bucket"
        )
    copy = "x-amz-copy-source" in headers
    if method == "PUT":
        if "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        if "acl" in query:
            return "PutObjectAcl"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if method == "GET":
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    return f"{method} object"


@dataclass
class Request:
    """One request the proxy saw (and what it did with it)."""

    seq: int
    method: str
    bucket: str
    key: str
    action: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    client_port: int
    delete_keys: list[str] = field(default_factory=list)
    copy_source: str | None = None
    status: int | None = None  # what the client was answered (None: no answer)
    fault: str | None = None

    @property
    def write(self) -> bool:
        return self.action in WRITE_ACTIONS

    def written_keys(self) -> list[str]:
        """The keys this request writes or deletes."""
        if self.action == "DeleteObjects":
            return list(self.delete_keys)
        return [self.key] if self.write else []

    @property
    def sse(self) -> dict[str, str]:
        return {
            k: v for k, v in self.headers.items() if k.startswith("x-amz-server-side-encryption")
        }


@dataclass
class Rule:
    """Which requests get which fault (module docstring)."""

    fault: str
    method: str | None = None
    action: str | frozenset[str] | None = None
    bucket: str | None = None
    key: str | None = None  # a regular expression, searched in the key
    writes_only: bool = False
    nth: int | None = None  # only the nth matching request (1-based)
    rate: float = 1.0  # otherwise each match, with this probability (seeded)
    max_faults: int | None = 1  # faults this rule may inject (None: no limit)
    latency: float = 0.0  # seconds, for `latency`
    keep: float = 0.5  # share of the body sent, for the body faults
    applied: bool | None = None  # forward the request before answering with an error/reset
    hook: Callable[[Request], None] | None = None
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}: one of {', '.join(FAULTS)}")
        if isinstance(self.action, set):
            self.action = frozenset(self.action)

    def matches(self, r: Request) -> bool:
        if self.method and r.method != self.method:
            return False
        if isinstance(self.action, str) and r.action != self.action:
            return False
        if isinstance(self.action, frozenset) and r.action not in self.action:
            return False
        if self.bucket and r.bucket != self.bucket:
            return False
        if self.writes_only and not r.write:
            return False
        keys = r.written_keys() or [r.key]
        return not self.key or any(re.search(self.key, k) for k in keys)

    @property
    def forwards_first(self) -> bool:
        if self.fault in ("latency", "pass") or self.fault in BODY_FAULTS:
            return True
        if self.fault == "drop":
            return False
        applied = self.applied
        return _APPLIED_BY_DEFAULT.get(self.fault, False) if applied is None else applied


def error_body(code: str, message: str, resource: str, request_id: str) -> bytes:
    """S3's XML error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    ).encode()


class FaultProxy:
    """The proxy (module docstring). Start it with `start()` or as a context manager."""

    def __init__(
        self,
        upstream: str,
        seed: int = 0,
        max_faults: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 120.0,
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rng = random.Random(seed)
        self.max_faults = max_faults
        self.timeout = timeout
        self.rules: list[Rule] = []
        self.requests: list[Request] = []
        self.observer: Callable[[Request], None] | None = None
        self.lock = threading.RLock()
        self._seq = 0
        self._injected = 0
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (an S3 environment) with the endpoint pointed at the proxy."""
        return {**(base or {}), "BUILDOUT_S3_ENDPOINT": self.endpoint}

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"s3-faults-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- rules and records --------------------------------------------------------------------

    def add(self, *rules: Rule) -> FaultProxy:
        with self.lock:
            self.rules.extend(rules)
        return self

    def clear(self) -> None:
        """Drop every rule and every record."""
        with self.lock:
            self.rules.clear()
            self.requests.clear()
            self._injected = 0

    @property
    def faults(self) -> list[Request]:
        return [r for r in self.requests if r.fault is not None]

    @property
    def faults_injected(self) -> int:
        """Faults injected so far (`pass` rules, which only run a hook, do not count)."""
        return self._injected

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.write]

    def _record(self, request: Request) -> None:
        with self.lock:
            self._seq += 1
            request.seq = self._seq
            self.requests.append(request)

    def _choose(self, request: Request) -> Rule | None:
        """The rule that fires for this request, if any (counts and the seeded draw)."""
        with self.lock:
            for rule in self.rules:
                if not rule.matches(request):
                    continue
                rule.matched += 1
                if rule.nth is not None and rule.matched != rule.nth:
                    continue
                if rule.max_faults is not None and rule.fired >= rule.max_faults:
                    continue
                bounded = self.max_faults is not None and self._injected >= self.max_faults
                if bounded and rule.fault != "pass":
                    continue
                if rule.nth is None and rule.rate < 1.0 and self.rng.random() >= rule.rate:
                    continue
                return rule
            return None

    def _fired(self, rule: Rule, request: Request) -> None:
        with self.lock:
            rule.fired += 1
            request.fault = rule.fault
            if rule.fault != "pass":
                self._injected += 1


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        pass

    Handler.proxy = proxy
    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    # -- one request --------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = bytearray()
            while True:
                line = self.rfile.readline()
                raw += line
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, then the empty line
                        trailer = self.rfile.readline()
                        raw += trailer
                        if trailer in (b"\r\n", b"\n", b""):
                            return bytes(raw)
                raw += self.rfile.read(size + 2)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _parse(self, body: bytes) -> Request:
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        bucket, _, key = path.lstrip("/").partition("/")
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        action = s3_action(self.command, bucket, key, query, headers)
        request = Request(
            0, self.command, bucket, key, action, query, headers, self.client_address[1]
        )
        if action == "DeleteObjects" and body:
            with contextlib.suppress(ET.ParseError):
                root = ET.fromstring(body)
                request.delete_keys = [
                    el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"
                ]
        if "x-amz-copy-source" in headers:
            request.copy_source = urllib.parse.unquote(headers["x-amz-copy-source"])
        return request

    def _handle(self) -> None:
        proxy = self.proxy
        body = self._read_body()
        request = self._parse(body)
        proxy._record(request)
        if proxy.observer is not None:
            proxy.observer(request)
        rule = proxy._choose(request)
        if rule is not None and rule.fault not in BODY_FAULTS:
            proxy._fired(rule, request)
            if rule.hook is not None:
                rule.hook(request)
        if rule is not None and rule.fault == "latency":
            time.sleep(rule.latency)
        if rule is None or rule.forwards_first:
            try:
                status, reason, headers, payload = self._forward(body)
            except OSError:
                self._reset()
                return
        if rule is not None and rule.fault in BODY_FAULTS:
            if not (200 <= status < 300 and len(payload) >= 2):
                rule = None  # nothing to cut: the rule does not fire for this request
            else:
                proxy._fired(rule, request)
                if rule.hook is not None:
                    rule.hook(request)
        if rule is None or rule.fault in ("latency", "pass"):
            request.status = status
            self._answer(status, reason, headers, payload)
            return
        fault = rule.fault
        if fault in _ERRORS:
            code_status, code, message = _ERRORS[fault]
            request.status = code_status
            resource = f"/{request.bucket}/{request.key}"
            self._answer(
                code_status,
                code,
                [
                    ("Content-Type", "application/xml"),
                    ("x-amz-request-id", f"FAULT{request.seq:06d}"),
                ],
                error_body(code, message, resource, f"FAULT{request.seq:06d}"),
            )
            return
        if fault in ("reset_before_response", "drop"):
            self._reset()
            return
        keep = max(1, min(len(payload) - 1, int(len(payload) * rule.keep)))
        if fault == "short_body":
            request.status = status
            self._answer(status, reason, headers, payload[:keep])
            return
        self._answer(status, reason, headers, payload[:keep], content_length=len(payload))
        if fault == "reset_mid_body":
            self._reset()
        else:  # truncated_body: an orderly close, as a server that stopped sending would
            with contextlib.suppress(OSError):
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        proxy = self.proxy
        conn = http.client.HTTPConnection(
            proxy.upstream_host, proxy.upstream_port, timeout=proxy.timeout
        )
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            conn.close()

    def _answer(
        self,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        payload: bytes,
        content_length: int | None = None,
    ) -> None:
        self.send_response_only(status, reason)
        length_sent = False
        for name, value in headers:
            low = name.lower()
            if low in _HOP_BY_HOP or low == "transfer-encoding":
                continue
            if low == "content-length":
                if self.command == "HEAD":  # the object's size, with no body
                    self.send_header(name, value)
                    length_sent = True
                continue
            self.send_header(name, value)
        if not length_sent:
            self.send_header(
                "Content-Length", str(len(payload) if content_length is None else content_length)
            )
        self.end_headers()
        if self.command != "HEAD" and payload:
            with contextlib.suppress(OSError):
                self.wfile.write(payload)

    def _reset(self) -> None:
        """Close the connection with a TCP reset (SO_LINGER 0): no response, or no more of it."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True
