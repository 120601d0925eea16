"""moto in server mode behind a WSGI layer that applies realism.py, counts calls, and adds latency, throttling and faults.

A threaded server: calls run concurrently, under the per-account locks of concurrency.py.
"""

import collections
import copy
import functools
import json
import socket
import threading
import time
import urllib.parse

import boto3
from moto.core import DEFAULT_ACCOUNT_ID as DEFAULT_ACCOUNT
from moto.moto_api._internal import moto_api_backend
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.core import responses as moto_responses
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from .concurrency import MODES, CallLocks, is_read
from .faults import STALE_LIST, FaultDraw, check_patterns, check_shares
from .faults import aws_error as aws_fault
from .protocol import AwsError, Reply, error_reply, parse_request, read_body
from .races import Races, run_event
from .realism import Realism, certify_mfa_device
from .seed import seed_organization, seed_root_credentials

CONTROL_PREFIX = "/_iamguard/"

# moto lists the methods of the response class (inspect.getmembers) on every call to find the action's; a class's
# methods do not change while the simulator runs, so the list is made once per class (about 1 ms a call saved).
moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(moto_responses.method_names_from_class)
THROTTLED_SERVICES = ("iam", "sts")
SERVICES = ("iam", "sts", "organizations")  # what the simulator serves
DUMMY_KEY, DUMMY_SECRET = "testing", "testing"


def _positive_or_none(name):
    def check(value):
        if value is None:
            return None
        value = float(value)
        if value <= 0:
            raise ValueError(f"{name} must be positive")
        return value
    return check


def _seconds(name):
    def check(value):
        value = float(value or 0.0)
        if value < 0:
            raise ValueError(f"{name} must be 0 or more seconds")
        return value
    return check


def _flag(name):
    def check(value):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    return check


def _burst(value):
    if value is None:
        return None
    value = int(value)
    if value < 1:
        raise ValueError("throttle_burst must be at least 1")
    return value


def _user_names(value):
    names = value or ()
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise ValueError("race_before_delete_user must be a list of user names")
    return tuple(names)


def _mode(value):
    if value not in MODES:
        raise ValueError(f"concurrency must be one of {', '.join(MODES)}")
    return value


def _seed(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("fault_seed must be an integer or null")
    return value


class Options:
    """Run-time options; see Simulator."""

    DEFAULTS = {"latency": 0.0, "throttle_rate": None, "throttle_burst": None, "require_mfa_session": False, "root_mfa_device": True,
                "race_before_delete_user": (), "concurrency": "accounts", "backend_time": 0.0,
                "faults": {}, "fault_seed": None, "fault_actions": (), "linger_seconds": 2.0, "roles_must_exist": False}
    CHECKS = {"latency": _seconds("latency"), "throttle_rate": _positive_or_none("throttle_rate"), "throttle_burst": _burst,
              "require_mfa_session": _flag("require_mfa_session"), "root_mfa_device": _flag("root_mfa_device"),
              "race_before_delete_user": _user_names, "concurrency": _mode, "backend_time": _seconds("backend_time"),
              "faults": check_shares, "fault_seed": _seed, "fault_actions": check_patterns, "linger_seconds": _seconds("linger_seconds"),
              "roles_must_exist": _flag("roles_must_exist")}

    def __init__(self, **options):
        self.__dict__.update(self.DEFAULTS)
        self.update(options)

    def update(self, options):
        """Validate and apply options; raise TypeError or ValueError (and change nothing) on a bad one."""
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise TypeError(f"unknown simulator option(s): {', '.join(unknown)}")
        values = {name: self.CHECKS[name](value) for name, value in options.items()}
        self.__dict__.update(values)

    def as_dict(self):
        return {name: copy.copy(getattr(self, name)) for name in self.DEFAULTS}


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

    def __init__(self, options, simulator=None):
        self.app = DomainDispatcherApplication(create_backend_app)
        # moto's dispatcher finds the service of every request anew (it lists moto's package folder, about 180 stat
        # calls, under one global lock); the layer already knows it from the signature, so its calls go straight
        # to that service's app, made once.
        self._service_apps = {}
        self._apps_lock = threading.Lock()
        self.options = options
        self.simulator = simulator  # the seed-* control endpoints seed through its clients
        self.realism = Realism(options)
        self.faults = FaultDraw(options)
        self.races = Races()
        self._locks = CallLocks()
        self._count_lock = threading.Lock()
        self._counts = collections.Counter()
        self._account_counts = collections.defaultdict(collections.Counter)
        self._buckets = {}  # account -> TokenBucket: IAM throttles each account on its own
        self._renew_bucket()

    def _renew_bucket(self):
        """Forget every account's token bucket; each account gets a new one, full, at its next call."""
        with self._count_lock:
            self._buckets = {}

    def configure(self, **options):
        with self._locks.everything():
            self.options.update(options)
        if {"throttle_rate", "throttle_burst"} & set(options):
            self._renew_bucket()
        if {"fault_seed", "faults"} & set(options):
            self.faults.reseed()

    def counters(self, account=None):
        with self._count_lock:
            return dict(self._counts if account is None else self._account_counts.get(account, {}))

    def reset_counters(self):
        with self._count_lock:
            self._counts.clear()
            self._account_counts.clear()

    def reset(self):
        with self._locks.everything():
            moto_api_backend.reset()
            self.realism.reset()
            self.races.reset()
        self.reset_counters()
        self._renew_bucket()
        self.faults.reseed()

    def _count(self, req, name):
        with self._count_lock:
            self._counts[name] += 1
            self._account_counts[req.account][name] += 1

    def _admit(self, req):
        """False when the token bucket of the call's account throttles the call."""
        if req.service not in THROTTLED_SERVICES or not self.options.throttle_rate:
            return True
        with self._count_lock:
            bucket = self._buckets.get(req.account)
            if bucket is None:
                bucket = self._buckets[req.account] = TokenBucket(self.options.throttle_rate, self.options.throttle_burst)
            return bucket.take()

    def _service_app(self, service):
        """The moto app of ``service`` (those the layer knows), else moto's dispatcher."""
        if service not in SERVICES:
            return self.app
        with self._apps_lock:
            if service not in self._service_apps:
                self._service_apps[service] = create_backend_app(service)
            return self._service_apps[service]

    def _forward(self, service, environ):
        """Let moto answer; return its answer as a Reply."""
        started, chunks = {}, []

        def start_response(status, headers, *_exc_info):
            started.update(status=int(status.split()[0]), headers=list(headers))
            return chunks.append

        try:
            result = self._service_app(service)(environ, start_response)
        except NotImplementedError as error:  # moto raises it for calls it lacks; botocore wants XML, not an HTML 500
            return error_reply(service, AwsError("NotImplemented", f"{error} in the simulator", 501, sender=False))
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Reply(started["status"], b"".join(chunks), started["headers"])

    def _act(self, req):
        """Let the realism layer (and moto) answer, holding the locks moto's state needs (see concurrency.py)."""
        mode = self.options.concurrency
        if not self.realism.root_device_in_sync(req.account):
            with self._locks.call(req.account, write=True, mode=mode):
                self.realism.sync_root_device(req.account)
        with self._locks.call(req.account, write=not is_read(req.action), mode=mode):
            if self.options.backend_time:
                time.sleep(self.options.backend_time)
            return self.realism.handle(req, lambda: self._forward(req.service, req.environ))

    def _race_after(self, req):
        """Run the races due after this answer (races.py), each as one write of the call's account, before the caller gets the answer."""
        for event in self.races.due(req):
            with self._locks.call(req.account, write=True, mode=self.options.concurrency):
                run_event(req.account, event)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, path[len(CONTROL_PREFIX):].strip("/"))(start_response)
        req = None if path.startswith("/moto-api") else parse_request(environ)
        if req is None:
            return self.app(environ, start_response)
        req.account = self.realism.account_of(req)
        admitted = self._admit(req)
        if self.options.latency:
            time.sleep(self.options.latency)
        if not admitted:
            self._count(req, "throttled")
            return error_reply(req.service, AwsError("Throttling", "Rate exceeded", 400))(start_response)
        forced = self.races.failure(req)
        if forced is not None:
            self._count(req, "race:fail")
            return error_reply(req.service, forced)(start_response)
        fault = self.faults.draw(req)
        if fault and fault != STALE_LIST:
            self._count(req, f"fault:{fault}")
        if fault == "drop_before":
            _drop_connection(environ)
        error = aws_fault(fault)
        if error is not None:
            return error_reply(req.service, error)(start_response)
        if fault == STALE_LIST:
            req.linger_seconds = self.options.linger_seconds
        self._count(req, f"{req.service}:{req.action}")
        reply = self._act(req)
        self._race_after(req)
        if fault == STALE_LIST and reply.status == 200:  # only a Delete that succeeded leaves something lingering
            self._count(req, f"fault:{fault}")
        if fault == "drop_after":
            _drop_connection(environ)
        return reply(start_response)

    def _control(self, environ, name):
        method = environ.get("REQUEST_METHOD", "GET")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        try:
            if (method, name) == ("GET", "counters"):
                payload = self.counters(query.get("account"))
            elif (method, name) == ("DELETE", "counters"):
                self.reset_counters()
                payload = {}
            elif (method, name) == ("GET", "config"):
                payload = self.options.as_dict()
            elif (method, name) == ("POST", "config"):
                self.configure(**_json_object(environ))
                payload = self.options.as_dict()
            elif (method, name) == ("POST", "reset"):
                self.reset()
                payload = {"reset": True}
            elif (method, name) == ("POST", "races"):
                self.races.add(**_json_object(environ))
                payload = {"fired": self.races.fired}
            elif (method, name) == ("GET", "races"):
                payload = {"fired": self.races.fired}
            elif (method, name) == ("POST", "races/clear"):
                self.races.reset()
                payload = {"fired": []}
            elif (method, name) == ("POST", "root-credentials"):
                payload = self.realism.root_credentials(str(_json_object(environ).get("account", DEFAULT_ACCOUNT)))
            elif (method, name) == ("POST", "mfa-certifications"):
                # For a simulator in another process: realism.certify_mfa_device with these keyword arguments.
                arguments = _json_object(environ)
                certify_mfa_device(str(arguments.pop("account", DEFAULT_ACCOUNT)), **arguments)
                payload = arguments
            elif (method, name) == ("POST", "seed-organization"):
                # For a simulator in another process (the demo): seed_organization with these keyword arguments.
                payload = seed_organization(self.simulator, **_json_object(environ))
            elif (method, name) == ("POST", "seed-root-credentials"):
                arguments = _json_object(environ)
                made = seed_root_credentials(self.simulator, str(arguments.pop("account")), **arguments)
                payload = {key: value for key, value in made.items() if key != "secrets"}  # a control reply is no place for secrets
            else:
                return _json_reply(404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{name}"})
        except (KeyError, TypeError, ValueError) as error:
            return _json_reply(400, {"error": str(error)})
        return _json_reply(200, payload)


def _json_object(environ):
    value = json.loads(read_body(environ) or b"{}")
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _drop_connection(environ):
    """Close the client's connection without an answer (fault drop_before / drop_after); werkzeug takes it as a dropped client."""
    environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("connection dropped by the simulator (injected fault)")


def _json_reply(status, payload):
    return Reply(status, json.dumps(payload, sort_keys=True).encode(), [("Content-Type", "application/json")])


class _QuietHandler(MotoRequestHandler):
    """No access log line per request."""

    def log_request(self, code="-", size="-"):
        pass


class Simulator:
    """A local IAM/STS/Organizations endpoint: moto plus the realism layer, served on 127.0.0.1 by a threaded server.

    moto keeps its state per process, so Simulators in one process share (and reset) one state.
    Options (keyword arguments, also settable with configure() and POST /_iamguard/config):
    latency (s slept before each API call, outside any lock), throttle_rate (calls/s over
    IAM+STS per account, as IAM throttles each account on its own: one token bucket per account,
    shared by all callers of that account, None = off) and throttle_burst (bucket size,
    default the rate), roles_must_exist (sts:AssumeRole of a role that does not exist is refused),
    require_mfa_session (DeactivateMFADevice needs an MFA STS session),
    root_mfa_device (the account has root's virtual MFA device), race_before_delete_user (user
    names: another process adds an access key to each just before its first DeleteUser),
    concurrency ("accounts": calls run in parallel, reads of an account overlap and writes of an
    account take turns; "serial": one call at a time), backend_time (s each call spends inside
    its account's lock, to make that visible), faults / fault_seed / fault_actions /
    linger_seconds (injected faults, see faults.py). Races (another actor's change at an exact point, and failures on
    demand) are staged with race(), see races.py.
    """

    def __init__(self, **options):
        self._layer = Layer(Options(**options), self)
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

    def counters(self, account=None):
        """Since the last reset: calls acted on, as {"iam:ListUsers": 3, ...}, calls the token bucket
        refused ("throttled") and faults injected per kind ("fault:<kind>"); of one account if given."""
        return self._layer.counters(account)

    def root_credentials(self, account=DEFAULT_ACCOUNT):
        """A new access key of the root user of `account` (root.py), that calls as arn:aws:iam::<account>:root."""
        return self._layer.realism.root_credentials(account)

    def reset_counters(self):
        self._layer.reset_counters()

    def race(self, after=None, fail=None):
        """Stage a race (races.py): ``after={"action", "nth", "do"}`` runs an event right after the nth answer to the action,
        ``fail={"action", "times", "code"}`` answers the next calls of the action with an error. reset() forgets them."""
        self._layer.races.add(after=after, fail=fail)

    @property
    def races_fired(self):
        """The events of races that ran since the last reset."""
        return list(self._layer.races.fired)

    def client(self, service="iam", access_key=None, secret_key=None, session_token=None, config=None):
        """A boto3 client aimed at the simulator (us-east-1; dummy credentials unless given)."""
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", config=config,
                            aws_access_key_id=access_key or DUMMY_KEY, aws_secret_access_key=secret_key or DUMMY_SECRET,
                            aws_session_token=session_token)
