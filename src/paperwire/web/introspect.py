"""Every route of the app with its methods, for the CSRF sweep (test and benchmark).

FastAPI 0.165 keeps included routers as ``_IncludedRouter`` entries in ``app.routes``
(not flattened), so they are walked here, prefixes added, duck-typed on the two
attributes that hold them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Route

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def walk(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every HTTP route, included routers' ones too."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from walk(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                yield method, prefix + route.path


def state_changing_routes(app: Any) -> list[tuple[str, str]]:
    return sorted(
        {(method, path) for method, path in walk(app.routes) if method in UNSAFE_METHODS},
        key=lambda item: (item[1], item[0]),
    )
