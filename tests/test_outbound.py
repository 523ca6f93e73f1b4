"""config.outbound: IPv4 addresses hidden in IPv6 ones, and URLs as they appear in logs."""

import logging

import pytest

from config.outbound import RedactUrlsFilter, address_is_private, redact_url, url_has_userinfo


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:127.0.0.1",
        "::ffff:0:a00:1",  # IPv4-translated (SIIT)
        "64:ff9b::a00:1",  # NAT64 well-known prefix → 10.0.0.1
        "64:ff9b::7f00:1",  # → 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # → 169.254.169.254, the cloud metadata service
        "64:ff9b::c0a8:101",  # → 192.168.1.1
        "64:ff9b::f000:1",  # → 240.0.0.1, reserved
        "64:ff9b::6440:1",  # → 100.64.0.1, shared (CGNAT)
        "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215)
        "64:ff9b:1::808:808",  # local-use NAT64, whatever it embeds
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo (client 10.0.0.1)
        "::10.0.0.1",  # IPv4-compatible
        "::127.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "10.0.0.1",
        "169.254.169.254",
    ],
)
def test_private_addresses_are_refused_in_every_ipv6_disguise(address):
    assert address_is_private(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"]
)
def test_public_addresses_stay_allowed_in_their_ipv6_forms(address):
    assert not address_is_private(address)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55@hooks.example.com/in?token=s3cret&x=1", "https://REDACTED@hooks.example.com/in?token=REDACTED&x=REDACTED"),
        ("https://hooks.example.com:8443/in#frag", "https://hooks.example.com:8443/in"),
        ("https://hooks.example.com/in?s3cret", "https://hooks.example.com/in?REDACTED"),
        ("http://[::1]:80/x", "http://[::1]:80/x"),
    ],
)  # fmt: skip
def test_urls_lose_their_credentials_and_query_values_in_logs(url, shown):
    assert redact_url(url) == shown


def test_userinfo_is_found_even_without_a_password():
    assert url_has_userinfo("https://token@hooks.example.com/")
    assert not url_has_userinfo("https://hooks.example.com/a@b")


def test_the_logging_filter_redacts_urls_inside_any_message():
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s"',
        ("POST", "http://u:pa55@h/x?k=s3cret", "200"),
        None,
    )

    RedactUrlsFilter().filter(record)

    assert record.getMessage() == 'HTTP Request: POST http://REDACTED@h/x?k=REDACTED "200"'
