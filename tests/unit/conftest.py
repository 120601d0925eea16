# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared set-up of the unit tests.

The collection imports as ``ansible_collections.iamguard.aws``: this file makes
``<repo>/.build/collections/ansible_collections/iamguard/aws`` a symlink to the
checkout (the path is gitignored) and puts ``<repo>/.build/collections`` first on
sys.path. ``ansible_collections`` is a namespace package, so amazon.aws still
resolves from site-packages.
"""

from __future__ import annotations

import importlib
import os
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COLLECTIONS = os.path.join(REPO, ".build", "collections")


def _link_collection():
    namespace = os.path.join(COLLECTIONS, "ansible_collections", "iamguard")
    link = os.path.join(namespace, "aws")
    if os.path.realpath(link) == REPO:
        return
    if os.path.lexists(link) and not os.path.islink(link):
        raise RuntimeError("%s exists and is not a symlink to %s; remove it and run the tests again." % (link, REPO))
    os.makedirs(namespace, exist_ok=True)
    # A temp link renamed over the final name: safe when several runs start at once.
    temp = "%s.%d.tmp" % (link, os.getpid())
    if os.path.lexists(temp):
        os.unlink(temp)
    os.symlink(REPO, temp)
    os.replace(temp, link)


def _check_import():
    client = importlib.import_module("ansible_collections.iamguard.aws.plugins.module_utils.errors")
    where = os.path.realpath(client.__file__)
    if not where.startswith(REPO + os.sep):
        raise RuntimeError("iamguard.aws was imported from %s, not from the checkout %s." % (where, REPO))


_link_collection()
if sys.path[:1] != [COLLECTIONS]:
    sys.path.insert(0, COLLECTIONS)
_check_import()


@pytest.fixture
def iam():
    """A real boto3 IAM client that never reaches the network (see ``stub``)."""
    return boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def stub(iam):  # pylint: disable=redefined-outer-name
    """The active Stubber of ``iam``: every call must be stubbed, in order, with its exact parameters.

    At teardown every stubbed response must have been used, so a missing call fails the test too.
    """
    stubber = Stubber(iam)
    stubber.activate()
    yield stubber
    stubber.deactivate()
    stubber.assert_no_pending_responses()


def _client_error(code, message="", operation="Operation", status=400):
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@pytest.fixture
def client_error():
    """Factory of botocore ClientErrors: ``client_error(code, message, operation)``."""
    return _client_error
