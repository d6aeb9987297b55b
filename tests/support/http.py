"""Plumbing shared by the API fakes: one catch-all ``responses`` route per fake, a free port."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from typing import Any

import responses


class CatchAll(responses.CallbackResponse):
    """One registration answering every request under ``base`` with one of ``methods``.

    A fake registers exactly one of these, so the strict ``rsps`` fixture (every registered
    response must be used) holds whenever the fake was called at all, whichever methods the
    test needed; one route per method would leave, say, an unused DELETE route behind.
    """

    def __init__(self, base: str, callback: Callable[[Any], Any], methods: Iterable[str]) -> None:
        self.methods = frozenset(methods)
        super().__init__(
            "|".join(sorted(self.methods)), re.compile(rf"{re.escape(base)}/.*"), callback=callback
        )

    def matches(self, request: Any) -> tuple[bool, str]:
        if request.method not in self.methods:
            return False, "Method does not match"
        if not self._url_matches(self.url, str(request.url)):
            return False, "URL does not match"
        return True, ""


def serve(
    rsps: responses.RequestsMock, base: str, callback: Callable[[Any], Any], methods: Iterable[str]
) -> None:
    """Route ``methods`` under ``base`` to ``callback``; one fake per host and mock, because
    ``responses`` pops the first of two matching routes after one use."""
    if any(isinstance(r, CatchAll) and r.url.pattern == rf"{re.escape(base)}/.*" for r in rsps.registered()):
        raise RuntimeError(f"a fake already serves {base} on this responses mock")
    rsps.add(CatchAll(base, callback, methods))


def free_port() -> int:
    """A loopback port nothing listens on now: connecting is refused until someone binds it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
