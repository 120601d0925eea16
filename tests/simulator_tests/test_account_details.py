"""GetAccountAuthorizationDetails pages its users as AWS does; GetAccountSummary counts the users."""

from tests.simulator import seed

from .helpers import aws_error

USERS = 250


def _account_of_250_users(iam):
    """249 bare users and "user-100", who has a group, an inline and a managed policy, a boundary and tags."""
    for index in range(USERS):
        if index != 100:
            iam.create_user(UserName=f"user-{index:03d}")
    return seed.make_user(iam, "user-100", tags={"team": "blue"}, groups=["admins"], inline_policies=1, managed_policies=1, boundary=True)


def test_users_paged_by_max_items(iam):
    made = _account_of_250_users(iam)
    pages, marker = [], None
    while True:
        page = iam.get_account_authorization_details(Filter=["User"], MaxItems=100, **({"Marker": marker} if marker else {}))
        pages.append(page)
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    # moto answers every user in one page with IsTruncated false, whatever MaxItems says
    assert [len(page["UserDetailList"]) for page in pages] == [100, 100, 50]
    names = [user["UserName"] for page in pages for user in page["UserDetailList"]]
    assert names == [f"user-{index:03d}" for index in range(USERS)]
    assert "Marker" not in pages[-1]
    detail = next(user for user in pages[1]["UserDetailList"] if user["UserName"] == "user-100")
    assert (detail["Arn"], detail["UserId"], detail["Path"]) == (made["arn"], made["user_id"], "/")
    assert detail["GroupList"] == ["admins"]
    assert detail["UserPolicyList"] == [{"PolicyName": "user-100-inline-1", "PolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}}]
    assert detail["AttachedManagedPolicies"] == [{"PolicyName": "iamguard-seed-managed-1", "PolicyArn": made["managed_policy_arns"][0]}]
    assert detail["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": made["boundary_arn"]}
    assert detail["Tags"] == [{"Key": "team", "Value": "blue"}]
    bare = pages[0]["UserDetailList"][0]
    assert (bare["GroupList"], bare["UserPolicyList"], bare["AttachedManagedPolicies"]) == ([], [], [])
    assert "PermissionsBoundary" not in bare and "Tags" not in bare


def test_paginator_sees_every_entity_once(iam):
    _account_of_250_users(iam)
    paginator = iam.get_paginator("get_account_authorization_details")
    pages = list(paginator.paginate(Filter=["User"], PaginationConfig={"PageSize": 100}))
    assert len(pages) == 3
    assert len({user["UserId"] for page in pages for user in page["UserDetailList"]}) == USERS
    # without a Filter the users are paged the same way and the other lists come once, with the first page
    everything = paginator.paginate(PaginationConfig={"PageSize": 100}).build_full_result()
    assert sorted(user["UserName"] for user in everything["UserDetailList"]) == [f"user-{index:03d}" for index in range(USERS)]
    assert [group["GroupName"] for group in everything["GroupDetailList"]] == ["admins"]
    assert sorted(policy["Arn"].rsplit("/", 1)[1] for policy in everything["Policies"]) == ["iamguard-seed-boundary", "iamguard-seed-managed-1"]


def test_default_page_is_100_users_and_max_items_is_checked(iam):
    _account_of_250_users(iam)
    first = iam.get_account_authorization_details(Filter=["User"])
    assert (len(first["UserDetailList"]), first["IsTruncated"]) == (100, True)
    assert len(iam.get_account_authorization_details(Filter=["User"], MaxItems=1000)["UserDetailList"]) == USERS
    assert aws_error(iam.get_account_authorization_details, MaxItems=1001)[0::2] == ("ValidationError", 400)


def test_account_summary_counts_users(iam):
    assert iam.get_account_summary()["SummaryMap"]["Users"] == 0
    for index in range(3):
        iam.create_user(UserName=f"user-{index}")
    assert iam.get_account_summary()["SummaryMap"]["Users"] == 3
    iam.delete_user(UserName="user-1")
    assert iam.get_account_summary()["SummaryMap"]["Users"] == 2
