"""A fault-injecting HTTP proxy in front of the simulator, for the fault-survival tests.

IAM's query API over real HTTP, with a share of the calls answered the way a bad
minute in AWS answers them: throttling, HTTP 500 and 503, IAM's short-lived
EntityTemporarilyUnmodifiable / ConcurrentModification on changes, and connections
dropped before the request reaches IAM or after IAM acted (the answer is lost).
Draws come from one seeded generator, so a run's mix is reproducible.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "trailer"}
_MUTATING_PREFIXES = ("Create", "Delete", "Deactivate", "Detach", "Remove", "Update", "Put", "Attach", "Enable", "Tag", "Untag")

# kind -> (HTTP status, IAM error code, message)
_ANSWERS = {
    "throttling": (400, "Throttling", "Rate exceeded"),
    "server_500": (500, "ServiceFailure", "injected 500"),
    "server_503": (503, "ServiceUnavailable", "injected 503"),
    "temporarily_unmodifiable": (409, "EntityTemporarilyUnmodifiable", "injected: the entity is being changed, try again"),
    "concurrent_modification": (409, "ConcurrentModification", "injected: another request is changing this entity"),
}

# A bad minute in AWS: before the retry policy, 26 of 30 users of a batch purge failed under it.
FAULT_MIX = dict(throttling=0.30, server_500=0.05, server_503=0.05, drop_before=0.03, drop_after=0.03, settling=0.05)


class FaultProxy:
    """``with FaultProxy(target_url, throttling=0.3, ...) as proxy:`` then aim the SDK at ``proxy.url``.

    Shares are probabilities per request: ``throttling``, ``server_500``, ``server_503``,
    ``drop_before`` (connection closed, IAM never saw the request), ``drop_after`` (IAM
    acted, the answer is lost); ``settling`` applies to changes only and is split evenly
    between EntityTemporarilyUnmodifiable and ConcurrentModification. ``counts`` holds
    what was injected, plus ``requests`` and ``forwarded``.
    """

    def __init__(self, target_url, seed=12, throttling=0.0, server_500=0.0, server_503=0.0, drop_before=0.0, drop_after=0.0, settling=0.0):
        target = urllib.parse.urlsplit(target_url)
        self._target = (target.hostname, target.port)
        self._shares = [("throttling", throttling), ("server_500", server_500), ("server_503", server_503),
                        ("drop_before", drop_before), ("drop_after", drop_after)]
        self._settling = settling
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.counts = {"requests": 0, "forwarded": 0}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _count(self, kind):
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def draw(self, action):
        """The fault for one request of ``action``, or None."""
        with self._lock:
            self.counts["requests"] += 1
            roll = self._random.random()
            settle_roll = self._random.random()
            pick = self._random.random()
        for kind, share in self._shares:
            if roll < share:
                return kind
            roll -= share
        if action.startswith(_MUTATING_PREFIXES) and settle_roll < self._settling:
            return "temporarily_unmodifiable" if pick < 0.5 else "concurrent_modification"
        return None

    def forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection(*self._target, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fields = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
                action = (fields.get("Action") or [""])[0]
                fault = proxy.draw(action)
                if fault:
                    proxy._count(fault)  # pylint: disable=protected-access
                if fault == "drop_before":
                    return self._drop()
                if fault in _ANSWERS:
                    return self._error(*_ANSWERS[fault])
                headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
                status, response_headers, payload = proxy.forward(self.command, self.path, headers, body)
                proxy._count("forwarded")  # pylint: disable=protected-access
                if fault == "drop_after":
                    return self._drop()
                self.send_response(status)
                for key, value in response_headers:
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None

            def _error(self, status, code, message):
                payload = ("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>%s</Type><Code>%s</Code>"
                           "<Message>%s</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                           % ("Receiver" if status >= 500 else "Sender", code, message)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _drop(self):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            do_POST = do_GET = _relay  # noqa: N815 - the names http.server dispatches to

        return Handler
