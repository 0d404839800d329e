"""The client's address: X-Forwarded-For is believed only from the clinic's own proxies, as far as they vouch."""

import pytest
from django.test import RequestFactory

from clinic.client_ip import client_ip


def address(settings, remote, forwarded=None, proxies=()):
    settings.CLINIC_TRUSTED_PROXIES = list(proxies)
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    assert address(settings, "203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_a_client_that_is_not_a_trusted_proxy_cannot_name_another_address(settings):
    assert address(settings, "203.0.113.7", "198.51.100.1", proxies=["10.0.0.0/8"]) == "203.0.113.7"


def test_from_a_trusted_proxy_the_address_it_appended_is_the_client(settings):
    assert address(settings, "10.0.0.2", "198.51.100.1", proxies=["10.0.0.2"]) == "198.51.100.1"


def test_entries_a_client_wrote_to_the_left_of_our_proxys_are_ignored(settings):
    forwarded = "192.0.2.66, 8.8.8.8, 198.51.100.1"

    assert address(settings, "10.0.0.2", forwarded, proxies=["10.0.0.0/8"]) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    forwarded = "192.0.2.66, 198.51.100.1, 10.1.2.3, 172.16.0.9"
    proxies = ["10.0.0.0/8", "172.16.0.0/12"]

    assert address(settings, "10.0.0.2", forwarded, proxies=proxies) == "198.51.100.1"


@pytest.mark.parametrize("forwarded", [None, "", " ", "unknown", "198.51.100.1, not-an-address"])
def test_a_missing_or_garbled_header_from_a_trusted_proxy_gives_the_nearest_trusted_address(settings, forwarded):
    assert address(settings, "10.0.0.2", forwarded, proxies=["10.0.0.0/8"]) == "10.0.0.2"


def test_garbage_behind_a_trusted_hop_stops_the_walk_at_that_hop(settings):
    forwarded = "198.51.100.1, garbage, 10.1.2.3"

    assert address(settings, "10.0.0.2", forwarded, proxies=["10.0.0.0/8"]) == "10.1.2.3"


def test_ipv6_addresses_and_networks_work_and_ipv4_mapped_ones_are_read_as_ipv4(settings):
    assert address(settings, "2001:db8::2", "2001:db8:ffff::1", proxies=["2001:db8::/64"]) == "2001:db8:ffff::1"
    assert address(settings, "::ffff:10.0.0.2", "198.51.100.1", proxies=["10.0.0.0/8"]) == "198.51.100.1"
    assert address(settings, "::ffff:203.0.113.7") == "203.0.113.7"
