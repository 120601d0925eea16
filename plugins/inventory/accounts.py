# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: accounts
short_description: The accounts of an AWS organization as hosts of group aws_accounts
version_added: 0.1.0
description:
  - Lists the accounts of the organization of the caller's credentials with AWS Organizations and makes each one a
    host of group C(aws_accounts), ready for the playbooks of this collection (C(playbooks/*.yml)), which run over that group.
  - Reads the organization's tree from its root (or from each OU of O(include_ous), with everything below it), with
    two paginated reads per OU (ListOrganizationalUnitsForParent, ListAccountsForParent), so the OU path of every account
    comes with it and the cost grows with the OUs, not with the accounts.
  - Each host is named after its account (lower case; every run of characters other than letters, digits, C(.), C(_) and
    C(-) becomes C(-)); accounts whose names give the same host name are named C(<name>-<account id>) instead.
  - "Host variables: C(aws_account_id), C(aws_account_name), C(aws_account_email), C(aws_account_status), C(aws_ou_path)
    (C(/) directly under the root, else the OU names from the root, for example C(/Workloads/Prod)), C(aws_parent_id)
    (the root or OU the account sits in), C(aws_role_arn) (C(arn:<partition>:iam::<account id>:role/<role_name>); not set for
    the management account, where the caller is expected to act with its own credentials), C(aws_management_account_id),
    C(aws_is_management_account), C(ansible_connection=local) and C(ansible_python_interpreter={{ ansible_playbook_python }})
    (the playbooks run on the controller); O(compose) can override any of them."
  - "Groups: C(aws_accounts) holds every host; each OU gives a group named C(ou_) plus its path in lower case with C(_)
    between the OU names (C(ou_workloads), C(ou_workloads_prod)), a child of its parent OU's group, so a host is in the
    groups of its OU and of every OU above it."
  - "IAM permissions the credentials need: C(organizations:DescribeOrganization), C(organizations:ListRoots),
    C(organizations:ListAccountsForParent), C(organizations:ListOrganizationalUnitsForParent); with O(include_ous) also
    C(organizations:DescribeOrganizationalUnit) and C(organizations:ListParents) (and no C(ListRoots)). Only the management
    account may make these calls, and a member account registered as a delegated administrator for an AWS service (for
    example IAM), which AWS lets read the organization."
  - Uses a YAML configuration file whose name ends with C(accounts.yml) or C(accounts.yaml), for example C(org.accounts.yml).
options:
  plugin:
    description: The name of this plugin; it must always be set to V(iamguard.aws.accounts) for this plugin to read the file.
    type: str
    required: true
    choices: ["iamguard.aws.accounts"]
  role_name:
    description:
      - The role assumed in each member account (C(aws_role_arn)). Organizations creates V(OrganizationAccountAccessRole) in
        the accounts it creates; give the name of your own role otherwise, after its path if it has one (V(team/auditor)).
    type: str
    default: OrganizationAccountAccessRole
  include_ous:
    description:
      - Only the accounts under these OUs, at any depth below them (OU ids, C(ou-xxxx-xxxxxxxx)).
      - Empty (the default) lists every account of the organization.
    type: list
    elements: str
    default: []
  exclude_ids:
    description: Account ids (12 digits; quote them in YAML) left out of the inventory.
    type: list
    elements: str
    default: []
  exclude_names:
    description:
      - Account names or shell patterns (C(*), C(?), C([...])) whose accounts are left out of the inventory, for example
        V(sandbox-*). Matched against the whole account name, ignoring case.
    type: list
    elements: str
    default: []
  include_management:
    description:
      - Whether the organization's management account (as DescribeOrganization names it) is a host too. It has no
        C(aws_role_arn); a playbook acts in it with the caller's own credentials, and its C(aws_account_id) check fails
        that host when those credentials are of another account.
    type: bool
    default: false
  only_active:
    description: Only accounts whose state is ACTIVE; V(false) also lists suspended, closed and not yet active accounts.
    type: bool
    default: true
notes:
  - With O(cache) on, the accounts read from Organizations are kept in the cache plugin's store, keyed by the configuration
    file and by O(include_ous) and O(only_active); the filters, host names and variables are applied to them at every run.
    C(--flush-cache) (or V(cache=false)) reads the organization again.
  - The configuration is checked strictly before any call - an unknown key, a boolean option that is not a YAML boolean
    (or one of the strings Ansible reads as one, such as V(yes)), an account id that is not 12 digits, a role name IAM
    would refuse - and any failure (those, or Organizations refusing the calls) fails the source.
  - By default Ansible only warns when an inventory source fails to parse and goes on without its hosts. So that a
    playbook never mistakes a failed source for no inventory, this plugin records each failure, before raising it, in
    the variable C(iamguard_inventory_errors) of group C(all); the playbooks of this collection refuse to run when it is
    set, or when an inventory was given and group C(aws_accounts) is empty. Set C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true)
    (or C(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true)) to make Ansible itself stop at such a failure.
  - Organizations is a global service with one endpoint per partition; O(region) only picks the partition
    (V(us-east-1) when not set).
seealso:
  - name: AWS Organizations, ListAccountsForParent
    link: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
    description: The call that lists the accounts of a root or OU.
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
author:
  - iamguard maintainers (@iamguard)
"""

EXAMPLES = r"""
# org.accounts.yml: every active member account, through OrganizationAccountAccessRole,
# with the management account's credentials (profile security-admin).
plugin: iamguard.aws.accounts
profile: security-admin

---

# prod.accounts.yml: only the accounts under two OUs, without the sandboxes and one
# account, through a role of your own; the management account included; cached for an hour.
plugin: iamguard.aws.accounts
include_ous:
  - ou-ab12-workload1
  - ou-ab12-security1
exclude_names: ["sandbox-*", "*-playground"]
exclude_ids: ["444455556666"]
role_name: iamguard-auditor
include_management: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/iamguard-accounts
cache_timeout: 3600
# per-account variables and groups of your own (constructed)
compose:
  protected_users: "['break-glass-*']"
keyed_groups:
  - key: aws_account_status
    prefix: status
groups:
  production: "aws_ou_path.startswith('/Workloads/Prod')"
"""

import hashlib
import json

try:
    import botocore.config
except ImportError:
    pass  # AWSInventoryBase.parse checks for the SDK first

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import BOOLEANS

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 templates every inventory string
    def trust_as_template(value):
        return value

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.iamguard.aws.plugins.module_utils import organizations
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.session import BOTOCORE_RETRIES

# The variable of group all where a failure of this source is recorded (the playbooks' pre-flight reads it).
ERRORS_VARIABLE = "iamguard_inventory_errors"
# Organizations has one endpoint per partition; any region of the partition reaches it.
DEFAULT_REGION = "us-east-1"
# Each attempt at an endpoint that does not answer gives up after 10 s, not botocore's 60 s (the retry policy makes up to 20).
CONNECT_TIMEOUT = 10


class InventoryModule(AWSInventoryBase):
    NAME = "iamguard.aws.accounts"
    INVENTORY_FILE_SUFFIXES = ("accounts.yml", "accounts.yaml")

    def _query(self):
        """What the Organizations reads depend on (the rest of the options apply to their result)."""
        return {"include_ous": sorted(self.get_option("include_ous")), "only_active": self.get_option("only_active")}

    def get_cache_key(self, path):
        # The cache holds what Organizations answered, so a change of what is read is a new key.
        query = json.dumps(self._query(), sort_keys=True).encode()
        return "%s_%s" % (super().get_cache_key(path), hashlib.sha256(query).hexdigest()[:8])

    def _read_organization(self, options):
        client = self.client(
            "organizations", region=self.region or DEFAULT_REGION,
            config=botocore.config.Config(retries=BOTOCORE_RETRIES, connect_timeout=CONNECT_TIMEOUT),
        )
        organization = organizations.describe_organization(client)
        accounts = organizations.list_accounts(client, options["include_ous"], self.get_option("only_active"))
        return {"organization": organization, "accounts": accounts}

    def _populate(self, organization, accounts, role_name):
        strict = self.get_option("strict")
        self.inventory.add_group(organizations.ACCOUNTS_GROUP)
        for host in organizations.hosts(accounts, organization, role_name):
            name = self.inventory.add_host(host["name"], group=organizations.ACCOUNTS_GROUP)
            parent = None
            for group in host["groups"]:
                self.inventory.add_group(group)
                if parent:
                    self.inventory.add_child(parent, group)
                parent = group
            if parent:
                self.inventory.add_child(parent, name)
            host_vars = dict(host["vars"], ansible_connection="local",
                             ansible_python_interpreter=trust_as_template("{{ ansible_playbook_python }}"))
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def _check_config(self, path):
        """Refuse what the option parser would let through: unknown keys (a typo), booleans given as other strings."""
        config = self.loader.load_from_file(path) or {}
        if not isinstance(config, dict):
            raise IamGuardError("%s: the configuration must be a YAML mapping of options" % path)
        definitions = C.config.get_configuration_definitions("inventory", self._load_name)
        known = set(definitions)
        for definition in definitions.values():
            known.update(definition.get("aliases") or [])
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise IamGuardError("unknown option%s %s (the options are: %s)" % (
                "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(definitions))))
        for name, definition in definitions.items():
            value = config.get(name)
            if definition.get("type") in ("bool", "boolean") and value is not None and not isinstance(value, bool) and value not in BOOLEANS:
                raise IamGuardError("%s must be true or false (got %r)" % (name, value))

    def _record_failure(self, inventory, path, error):
        """Keep the failure where the playbooks' pre-flight sees it, even when Ansible only warns about the source."""
        group = inventory.groups.get("all")
        recorded = list((group.get_vars() if group else {}).get(ERRORS_VARIABLE) or [])
        message = str(error) if str(error).startswith(str(path)) else "%s: %s" % (path, error)
        if message not in recorded:
            inventory.set_variable("all", ERRORS_VARIABLE, recorded + [message])

    def parse(self, inventory, loader, path, cache=True):
        try:
            self._parse(inventory, loader, path, cache)
        except Exception as error:
            self._record_failure(inventory, path, getattr(error, "message", None) or error)
            raise

    def _parse(self, inventory, loader, path, cache):
        super().parse(inventory, loader, path, cache=cache)
        try:
            self._check_config(path)
            options = organizations.checked_options(
                self.get_option("include_ous"), self.get_option("exclude_ids"), self.get_option("exclude_names"),
                self.get_option("role_name"),
            )
            was_cached, found = self.get_cached_result(path, cache)
            found = found if was_cached else self._read_organization(options)
        except IamGuardError as error:
            raise AnsibleError("%s: %s" % (path, error.message)) from None
        organization = found["organization"]
        accounts = organizations.select_accounts(
            found["accounts"], options["exclude_ids"], options["exclude_names"], self.get_option("include_management"),
            organization["management_account_id"],
        )
        self._populate(organization, accounts, options["role_name"])
        self.update_cached_result(path, cache, found)
