"""moto in server mode behind a WSGI layer that counts calls, adds latency and throttling, and applies realism.py."""

import collections
import json
import threading
import time

import boto3
from moto.moto_api._internal import moto_api_backend
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from .protocol import AwsError, Reply, error_reply, parse_request, read_body
from .realism import Realism

CONTROL_PREFIX = "/_iamguard/"
THROTTLED_SERVICES = ("iam", "sts")
DUMMY_KEY, DUMMY_SECRET = "testing", "testing"


class Options:
    """Run-time options; see Simulator."""

    DEFAULTS = {"latency": 0.0, "throttle_rate": None, "throttle_burst": None, "require_mfa_session": False, "root_mfa_device": True,
                "race_before_delete_user": ()}

    def __init__(self, **options):
        self.__dict__.update(self.DEFAULTS)
        self.update(options)

    def update(self, options):
        """Validate and apply options; raise TypeError or ValueError (and change nothing) on a bad one."""
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise TypeError(f"unknown simulator option(s): {', '.join(unknown)}")
        values = dict(options)
        for name in ("latency", "throttle_rate"):
            if values.get(name) is not None:
                values[name] = float(values[name])
                if values[name] < 0 or (name == "throttle_rate" and values[name] == 0):
                    raise ValueError(f"{name} must be positive")
        if values.get("throttle_burst") is not None:
            values["throttle_burst"] = int(values["throttle_burst"])
            if values["throttle_burst"] < 1:
                raise ValueError("throttle_burst must be at least 1")
        if "latency" in values and values["latency"] is None:
            values["latency"] = 0.0
        if "race_before_delete_user" in values:
            names = values["race_before_delete_user"] or ()
            if isinstance(names, str) or not all(isinstance(name, str) for name in names):
                raise ValueError("race_before_delete_user must be a list of user names")
            values["race_before_delete_user"] = tuple(names)
        for name in ("require_mfa_session", "root_mfa_device"):
            if name in values and not isinstance(values[name], bool):
                raise ValueError(f"{name} must be true or false")
        self.__dict__.update(values)

    def as_dict(self):
        return {name: getattr(self, name) for name in self.DEFAULTS}


class TokenBucket:
    """`rate` tokens a second up to `burst`; each call takes one."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.capacity = burst if burst is not None else max(1, int(rate))
        self.tokens = float(self.capacity)
        self.stamp = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Layer:
    """The WSGI middleware in front of moto."""

    def __init__(self, options):
        self.app = DomainDispatcherApplication(create_backend_app)
        self.options = options
        self.realism = Realism(options)
        self._lock = threading.Lock()  # one API call at a time inside moto and the realism layer
        self._count_lock = threading.Lock()
        self._counts = collections.Counter()
        self._bucket = None
        self._renew_bucket()

    def _renew_bucket(self):
        with self._count_lock:
            rate = self.options.throttle_rate
            self._bucket = TokenBucket(rate, self.options.throttle_burst) if rate else None

    def configure(self, **options):
        with self._lock:
            self.options.update(options)
        if {"throttle_rate", "throttle_burst"} & set(options):
            self._renew_bucket()

    def counters(self):
        with self._count_lock:
            return dict(self._counts)

    def reset_counters(self):
        with self._count_lock:
            self._counts.clear()

    def reset(self):
        with self._lock:
            moto_api_backend.reset()
            self.realism.reset()
        self.reset_counters()
        self._renew_bucket()

    def _admit(self, req):
        """Count the call; False when the token bucket throttles it."""
        with self._count_lock:
            if req.service in THROTTLED_SERVICES and self._bucket is not None and not self._bucket.take():
                self._counts["throttled"] += 1
                return False
            self._counts[f"{req.service}:{req.action}"] += 1
            return True

    def _forward(self, service, environ):
        """Let moto answer; return its answer as a Reply."""
        started, chunks = {}, []

        def start_response(status, headers, *_exc_info):
            started.update(status=int(status.split()[0]), headers=list(headers))
            return chunks.append

        try:
            result = self.app(environ, start_response)
        except NotImplementedError as error:  # moto raises it for calls it lacks; botocore wants XML, not an HTML 500
            return error_reply(service, AwsError("NotImplemented", f"{error} in the simulator", 501, sender=False))
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Reply(started["status"], b"".join(chunks), started["headers"])

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, path[len(CONTROL_PREFIX):].strip("/"))(start_response)
        req = None if path.startswith("/moto-api") else parse_request(environ)
        if req is None:
            return self.app(environ, start_response)
        admitted = self._admit(req)
        if self.options.latency:
            time.sleep(self.options.latency)
        if not admitted:
            return error_reply(req.service, AwsError("Throttling", "Rate exceeded", 400))(start_response)
        with self._lock:
            reply = self.realism.handle(req, lambda: self._forward(req.service, req.environ))
        return reply(start_response)

    def _control(self, environ, name):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if (method, name) == ("GET", "counters"):
                payload = self.counters()
            elif (method, name) == ("DELETE", "counters"):
                self.reset_counters()
                payload = {}
            elif (method, name) == ("GET", "config"):
                payload = self.options.as_dict()
            elif (method, name) == ("POST", "config"):
                options = json.loads(read_body(environ) or b"{}")
                if not isinstance(options, dict):
                    raise ValueError("expected a JSON object of options")
                self.configure(**options)
                payload = self.options.as_dict()
            elif (method, name) == ("POST", "reset"):
                self.reset()
                payload = {"reset": True}
            else:
                return _json_reply(404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{name}"})
        except (TypeError, ValueError) as error:
            return _json_reply(400, {"error": str(error)})
        return _json_reply(200, payload)


def _json_reply(status, payload):
    return Reply(status, json.dumps(payload, sort_keys=True).encode(), [("Content-Type", "application/json")])


class _QuietHandler(MotoRequestHandler):
    """No access log line per request."""

    def log_request(self, code="-", size="-"):
        pass


class Simulator:
    """A local IAM/STS endpoint: moto plus the realism layer, served on 127.0.0.1 in a daemon thread.

    moto keeps its state per process, so Simulators in one process share (and reset) one state.
    Options (also settable with configure()): latency (s slept before each API call),
    throttle_rate (calls/s over IAM+STS, None = off) and throttle_burst (bucket size, default
    the rate), require_mfa_session (DeactivateMFADevice needs an MFA STS session),
    root_mfa_device (the account has root's virtual MFA device), race_before_delete_user (user
    names: another process adds an access key to each just before its first DeleteUser).
    """

    def __init__(self, latency=0.0, throttle_rate=None, throttle_burst=None, require_mfa_session=False, root_mfa_device=True):
        self._layer = Layer(Options(latency=latency, throttle_rate=throttle_rate, throttle_burst=throttle_burst,
                                    require_mfa_session=require_mfa_session, root_mfa_device=root_mfa_device))
        self._server = None
        self._thread = None
        self.port = None
        self.url = None

    def start(self, port=0):
        """Listen on 127.0.0.1:port (0: a free port) and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._server = make_server("127.0.0.1", port, self._layer, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="iamguard-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def options(self):
        return self._layer.options.as_dict()

    def configure(self, **options):
        self._layer.configure(**options)

    def reset(self):
        """Wipe moto's state (all accounts), the layer's state and the counters; keep the options."""
        self._layer.reset()

    def counters(self):
        """Calls received since the last reset, as {"iam:ListUsers": 3, ..., "throttled": n}."""
        return self._layer.counters()

    def reset_counters(self):
        self._layer.reset_counters()

    def client(self, service="iam", access_key=None, secret_key=None, session_token=None, config=None):
        """A boto3 client aimed at the simulator (us-east-1; dummy credentials unless given)."""
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", config=config,
                            aws_access_key_id=access_key or DUMMY_KEY, aws_secret_access_key=secret_key or DUMMY_SECRET,
                            aws_session_token=session_token)
