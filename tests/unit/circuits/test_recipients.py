"""The rule that keeps notification e-mails away from internal hosts (RELIABILITY item 9)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ged.adapters.mailer import RecipientRefused, check_recipient, is_public

DNS = {
    "agence.ma": ["196.200.131.10"],
    "intranet.agence.ma": ["10.1.2.3"],
    "split.example": ["93.184.216.34", "192.168.0.5"],
    "v6.example": ["2001:db8::1"],
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:127.0.0.1"],
}


def resolver(host: str) -> Sequence[str]:
    return DNS.get(host, [])


@pytest.mark.parametrize(
    "address",
    ["chef@agence.ma", "x@unknown.example", "e@[93.184.216.34]", "  chef@agence.ma  "],
)
def test_public_or_unresolved_domains_are_accepted(address: str) -> None:
    assert check_recipient(address, resolver, refuse_private=True) == address.strip()


@pytest.mark.parametrize(
    "address",
    [
        "a@intranet.agence.ma",
        "b@split.example",  # one internal address is enough
        "c@v6.example",  # documentation range, not global
        "d@metadata.example",  # cloud metadata, link-local
        "e@mapped.example",
        "f@[127.0.0.1]",
        "g@[IPv6:::1]",
        "h@[IPv6:fd00::1]",
        "i@[172.16.0.1]",
        "j@[0.0.0.0]",
        "k@[224.0.0.1]",
    ],
)
def test_domains_on_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(RecipientRefused, match="adresse interne"):
        check_recipient(address, resolver, refuse_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "two@@signs.ma",
        "a b@agence.ma",
        "chef@agence.ma\r\nBcc: victim@agence.ma",
        '"quoted"@agence.ma',
        "x" * 65 + "@agence.ma",
        "chef@agence.ma>",
    ],
)
def test_malformed_addresses_are_refused_even_without_the_network_rule(address: str) -> None:
    with pytest.raises(RecipientRefused, match="invalide"):
        check_recipient(address, resolver, refuse_private=False)


def test_the_rule_can_be_turned_off_for_an_internal_relay() -> None:
    assert check_recipient("a@intranet.agence.ma", resolver, refuse_private=False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4007::1", True),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("fe80::1%eth0", False),
        ("not an ip", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public
