# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import re
import time

from ansible_collections.iamguard.aws.plugins.module_utils import guards
from ansible_collections.iamguard.aws.plugins.module_utils import manifest as manifests
from ansible_collections.iamguard.aws.plugins.module_utils.plans import user as plans_user
from tests.unit.plugins.module_utils.iam_doubles import ACCOUNT, ISO, CALLER, POLICY, PASSKEY, mfa_serial, facts_of, write_manifest


def test_manifest_document_and_path():
    facts = facts_of()
    actions = plans_user.plan_user(facts, "absent")
    document = manifests.manifest_document(facts, actions, guards.caller_of(CALLER))
    assert document["format"] == "iamguard.aws/user-manifest/1"
    assert document["written_by"] == CALLER["Arn"]
    assert document["attached_policies"] == [POLICY]
    assert document["mfa_devices"][1] == {"serial_number": PASSKEY, "type": "passkey", "enable_date": ISO}
    assert document["actions"][-1] == {"action": "delete_user", "target": "alice"}
    json.dumps(document)
    path = manifests.manifest_path("/m", ACCOUNT, "alice")
    assert re.match(r"^/m/123456789012-alice-\d{8}T\d{6}Z-[0-9a-f]{16}\.json$", path)


def test_manifest_paths_never_collide_within_a_second(tmp_path, monkeypatch):
    # Two runs of the same user in the same second (a job launched twice) each get a name of their own.
    moment = time.gmtime(1700000000)
    monkeypatch.setattr(manifests.time, "gmtime", lambda *dummy: moment)
    paths = {manifests.manifest_path(str(tmp_path), ACCOUNT, "alice") for dummy in range(50)}
    assert len(paths) == 50
    # A name that exists already is drawn again.
    tokens = iter(["aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"])
    monkeypatch.setattr(manifests.secrets, "token_hex", lambda n: next(tokens))
    (tmp_path / ("%s-alice-20231114T221320Z-aaaaaaaaaaaaaaaa.json" % ACCOUNT)).write_text("{}")
    assert manifests.manifest_path(str(tmp_path), ACCOUNT, "alice").endswith("-20231114T221320Z-bbbbbbbbbbbbbbbb.json")


def test_manifest_serials_of_a_user(tmp_path):
    write_manifest(str(tmp_path), "gina", [mfa_serial("phone-of-gina")])
    write_manifest(str(tmp_path), "gina-2", [mfa_serial("phone-of-gina-2")])
    write_manifest(str(tmp_path), "Gina", [mfa_serial("tablet")], stamp="20261125T080000Z")
    (tmp_path / ("%s-gina-20261125T090000Z.json" % ACCOUNT)).write_text("{not json")
    (tmp_path / "notes.txt").write_text("gina")
    # Names with the token, and a user whose name looks like a time stamp.
    (tmp_path / ("%s-gina-20261125T100000Z-0123456789ab.json" % ACCOUNT)).write_text(
        json.dumps({"mfa_devices": [{"serial_number": mfa_serial("watch"), "type": "virtual"}]}))
    (tmp_path / ("%s-gina-20261125T100000Z-20261125T110000Z-0123456789ab.json" % ACCOUNT)).write_text(
        json.dumps({"mfa_devices": [{"serial_number": mfa_serial("not-gina"), "type": "virtual"}]}))
    assert manifests.manifest_serials(str(tmp_path), ACCOUNT, "gina") == {mfa_serial("phone-of-gina"), mfa_serial("tablet"), mfa_serial("watch")}
    assert manifests.manifest_serials(str(tmp_path), ACCOUNT, "gina-20261125T100000Z") == {mfa_serial("not-gina")}
    assert manifests.manifest_serials(str(tmp_path), "210987654321", "gina") == set()
    assert manifests.manifest_serials(None, ACCOUNT, "gina") == set()
