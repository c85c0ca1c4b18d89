"""The Authorization scheme follows fly-go: FlyV1 for macaroons, Bearer otherwise."""
import pytest

from chalicelib.machines.adapters.fly import authorization_header


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("fm2_abc,fm2_def", "FlyV1 fm2_abc,fm2_def"),
        ("FlyV1 fm2_abc", "FlyV1 fm2_abc"),
        ("fm1r_xyz", "FlyV1 fm1r_xyz"),
        ("Bearer fm1a_xyz", "FlyV1 fm1a_xyz"),
        ("oauth-token-123", "Bearer oauth-token-123"),
        ("Bearer oauth-token-123", "Bearer oauth-token-123"),
    ],
)
def test_authorization_header(token, expected):
    assert authorization_header(token) == expected
