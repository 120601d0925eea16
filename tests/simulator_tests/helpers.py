"""Small helpers shared by the simulator tests."""

import pytest
from botocore.exceptions import ClientError


def aws_error(call, *args, **kwargs):
    """Make a call that must fail; return (code, message, HTTP status)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]
