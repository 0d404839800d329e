"""The client's address, as the clinic's own proxies saw it.

``X-Forwarded-For`` is whatever the client wants it to be, except for the entries our own proxies
appended. So the header is read only when the request came from a trusted proxy
(``CLINIC_TRUSTED_PROXIES``, addresses or networks), and then from the right: the first address
that is not itself a trusted proxy is the client. Anything further left was written by the
client and is ignored.
"""

import functools
import ipaddress

from django.conf import settings


@functools.lru_cache(maxsize=8)
def trusted_networks(entries):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def address_parse(value):
    """An ``ipaddress`` address (IPv4-mapped IPv6 given as IPv4), or None when the value is not one."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def client_ip(request):
    """The client's address as text: REMOTE_ADDR, or the forwarded address when a trusted proxy sent it."""
    networks = trusted_networks(tuple(settings.CLINIC_TRUSTED_PROXIES))

    def trusted(address):
        return any(address in network for network in networks)

    remote_text = request.META.get("REMOTE_ADDR", "")
    remote = address_parse(remote_text)
    if remote is None:
        return remote_text
    if not trusted(remote):
        return str(remote)

    nearest = str(remote)
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = address_parse(hop)
        if address is None:
            # Not an address: nothing to its left can be vouched for. The nearest trusted hop it is.
            return nearest
        if not trusted(address):
            return str(address)
        nearest = str(address)
    return nearest


def client_network(request):
    """The client as the login lockout counts it: its address, or for IPv6 the first address of its /64.

    An address, not a network, because django-axes stores it in an address column.
    """
    address = address_parse(client_ip(request))
    if address is None or address.version == 4:
        return str(address) if address else client_ip(request)
    return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
