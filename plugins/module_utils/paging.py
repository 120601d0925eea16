# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paginated reads: every page, each as large as the API allows, retried as a whole."""

from __future__ import annotations

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = Exception

from ansible_collections.iamguard.aws.plugins.module_utils.calls import explain, require_sdk, retried
from ansible_collections.iamguard.aws.plugins.module_utils.errors import is_missing

# The page-size parameter of a list call: IAM names it MaxItems, Organizations MaxResults.
PAGE_SIZE_PARAMETERS = ("MaxItems", "MaxResults")


def largest_page(client, operation):
    """{page-size parameter: the largest value the API model allows} for ``operation``
    ({"MaxItems": 1000} for IAM's lists, {"MaxResults": 20} for Organizations'), or {}."""
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation])
    members = model.input_shape.members if model.input_shape else {}
    for name in PAGE_SIZE_PARAMETERS:
        if name in members and members[name].metadata.get("max"):
            return {name: members[name].metadata["max"]}
    return {}


def paginate(client, operation, result_key, **params):
    """Every item of a paginated list, all pages read, each page as large as the API allows.

    A few IAM lists take Marker/MaxItems but have no botocore paginator
    (ListServiceSpecificCredentials): those follow the markers here.
    """
    params = dict(params, **largest_page(client, operation))
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**params)
    else:
        pages = _marker_pages(client, operation, params)
    items = []
    for page in pages:
        items.extend(page.get(result_key, []))
    return items


def _marker_pages(client, operation, params):
    page = getattr(client, operation)(**params)
    yield page
    while page.get("IsTruncated") and page.get("Marker"):
        page = getattr(client, operation)(Marker=page["Marker"], **params)
        yield page


def iso_date(value):
    """A boto3 datetime as ISO 8601 text (results are JSON); anything else as it is."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def read(client, operation, result_key, doing, missing_ok=False, **params):
    """A paginated read, retried as a whole, whose failures become IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer (the user is gone) returns None.
    """
    require_sdk(client, operation, params, doing)
    try:
        return retried(paginate)(client, operation, result_key, **params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)
