"""The URL patterns' order (``config.urls``): the API and the providers' inbound calls come first because they are
the busiest, which is safe only while no path of one entry is matched by another. Every route of the reordered
entries, filled in with sample values, resolves to itself."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

SAMPLES = {"int": "7", "str": "sample", "slug": "sample", "uuid": "0b5e8d3a-1c2f-4e5a-9b7c-3d2e1f0a9b8c", "path": "a/b"}
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")  # a router's regular expressions (DRF): a named group
MOVED = ("api/v1/", "")  # the entries the order puts first, and the includes at "" they now come before


def _routes(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def _top_level_routes():
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) in MOVED:
            yield from _routes(entry.url_patterns, str(entry.pattern))


# DRF's format-suffix variants ("customers/7.json/") are left out: a detail route's id may hold a dot, so its own
# router's detail route takes them first, whatever the order of the entries here
ROUTES = sorted(route for route in set(_top_level_routes()) if "(?P<format>" not in route)


def test_the_reordered_entries_hold_routes():
    assert any(route.startswith("api/v1/^interactions/") for route in ROUTES)
    assert "inbound/email/<str:token>/" in ROUTES


def _sample(route: str) -> str:
    """A path the route matches: converters and named groups filled in, a regular expression's anchors dropped."""
    path = GROUP.sub("7", route)
    path = CONVERTER.sub(lambda found: SAMPLES[found.group(1) or "str"], path)
    return "/" + path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_resolves_to_itself(route):
    assert resolve(_sample(route)).route == route.replace("/^", "/")  # as Django joins them
