"""Review of issue 13: IPv6 forms that carry an IPv4 address the guard would refuse."""

import pytest

from processes.outbound import address_refusal


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a00:1",  # NAT64 (RFC 6052) of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (metadata)
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_an_ipv6_address_carrying_a_private_ipv4_is_refused(address):
    assert address_refusal(address, allow_private=False) is not None
