"""AWS protocol plumbing: parse an API request (query or JSON protocol), render results and errors."""

import base64
import datetime
import http
import io
import json
import re
import urllib.parse
import uuid
from xml.sax.saxutils import escape

NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
JSON_SERVICES = ("organizations",)  # services that speak the JSON protocol (X-Amz-Target and a JSON body)
_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")


class AwsError(Exception):
    """An error answer in AWS's terms (raised by the realism handlers)."""

    def __init__(self, code, message, status=400, sender=True):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender


class Reply:
    """An HTTP answer: status code, headers and body."""

    def __init__(self, status, body, headers=None):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else [("Content-Type", "text/xml")]

    def __call__(self, start_response):
        phrase = http.HTTPStatus(self.status).phrase
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {phrase}", headers)
        return [self.body]


class ApiRequest:
    """One AWS API call as seen by the layer; `environ` is what moto will receive."""

    def __init__(self, environ, service, action, params, access_key, region=None):
        self.environ = environ
        self.region = region  # of the request's signature (AWS records it as an access key's last used region)
        self.service = service
        self.action = action
        self.params = params
        self.access_key = access_key
        self.account = None
        self.linger_seconds = 0.0  # fault stale_list drawn for this Delete call (faults.py)

    @property
    def session_token(self):
        return self.environ.get("HTTP_X_AMZ_SECURITY_TOKEN")

    def set_param(self, name, value):
        """Change a parameter, also in the body moto will read."""
        self.params[name] = value
        body = urllib.parse.urlencode(self.params).encode()
        self.environ["wsgi.input"] = io.BytesIO(body)
        self.environ["CONTENT_LENGTH"] = str(len(body))


def read_body(environ):
    """Read the request body and put it back so that moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def parse_request(environ):
    """Return an ApiRequest, or None when this is not an AWS API call."""
    body = read_body(environ)
    params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif content_type.startswith("application/x-amz-json"):
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            document = None
        params.update(document if isinstance(document, dict) else {})
    action = params.get("Action")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if not action and target:
        action = target.rsplit(".", 1)[-1]
    if not action:
        return None
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key, region, service = (match.group(1), match.group(2), match.group(3).lower()) if match else (None, None, "unknown")
    return ApiRequest(environ, service, action, params, access_key, region)


def _timestamp(value):
    if value.tzinfo is None:  # moto keeps naive UTC datetimes
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class XmlMap(dict):
    """A map as the query protocol renders one (<entry><key/><value/></entry>), such as GetMFADevice's Certifications."""


def _xml(value):
    if isinstance(value, XmlMap):
        return "".join(f"<entry><key>{escape(str(k))}</key><value>{_xml(v)}</value></entry>" for k, v in value.items())
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<member>{_xml(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _timestamp(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return escape(str(value))


def _reply(status, xml, request_id):
    return Reply(status, xml.encode(), [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)])


def result_reply(service, action, result=None):
    """A successful answer; `result` is a dict rendered as the <Action>Result element."""
    request_id = str(uuid.uuid4())
    inner = f"<{action}Result>{_xml(result)}</{action}Result>" if result is not None else ""
    xml = (f'<{action}Response xmlns="{NAMESPACES.get(service, NAMESPACES["iam"])}">{inner}'
           f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>")
    return _reply(200, xml, request_id)


def error_reply(service, error):
    """An error answer that botocore parses into ClientError(code, message)."""
    request_id = str(uuid.uuid4())
    if service in JSON_SERVICES:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return Reply(error.status, body, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)])
    fault = "Sender" if error.sender else "Receiver"
    xml = (f'<ErrorResponse xmlns="{NAMESPACES.get(service, NAMESPACES["iam"])}">'
           f"<Error><Type>{fault}</Type><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
           f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return _reply(error.status, xml, request_id)
