"""Service control policies for tests: made and attached through the API, as an organization's administrator does.

moto's Organizations has SCPs (EnablePolicyType, CreatePolicy, AttachPolicy, ListPoliciesForTarget,
DescribePolicy, ListParents) and, like AWS, attaches its FullAWSAccess SCP (p-FullAWSAccess) to the root
and to every OU and account made. It evaluates none of them: calls are never denied by an SCP here.
"""

import json

SCP = "SERVICE_CONTROL_POLICY"


def attach_scp(sim, target_id, statements, name):
    """Create an SCP named `name` with `statements` and attach it to `target_id` (an account, an OU or the root); its policy id.

    The organization's SCP policy type is enabled on first use (the management account's credentials, the default ones).
    """
    organizations = sim.client("organizations")
    root = organizations.list_roots()["Roots"][0]
    if not any(kind["Type"] == SCP and kind["Status"] == "ENABLED" for kind in root.get("PolicyTypes", [])):
        organizations.enable_policy_type(RootId=root["Id"], PolicyType=SCP)
    policy_id = organizations.create_policy(Name=name, Description=name, Type=SCP,
                                            Content=json.dumps({"Version": "2012-10-17", "Statement": statements}))["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=policy_id, TargetId=target_id)
    return policy_id
