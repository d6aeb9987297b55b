"""``comment-guard serve``: the archive as a read-only staff web page, on Datasette.

What makes it comment-guard's page rather than a bare Datasette is ``metadata.yaml`` beside
this file: canned queries (open findings, deleted comments with their last text, hidden
comments, corrected posts before/after, unanswered questions past their deadline, one
account's activity by day, search over every version), facets, descriptions of every table
and column, and the ``links`` that ``plugin.py`` turns into links between rows.

Safety, in the order a request meets it:

- **Bound to loopback by default.** Any other address needs a password (``[web] password_env``);
  without one ``serve`` refuses to start. With one, every request, static files and
  ``/-/metadata`` included, must carry it (HTTP Basic, datasette-auth-passwords'
  ``http_basic_auth``). Basic auth sends the password with each request: off the machine, put
  a TLS reverse proxy in front.
- **Only loopback names without a password.** A page on loopback is still reachable from the
  staff's own browser, and through it from any web site they open: the site points its own
  host name at 127.0.0.1 (DNS rebinding) and reads the archive as same-origin. So without a
  password a request must be addressed to a loopback name (``Host: 127.0.0.1``,
  ``localhost``, ``[::1]``; any port); others get 403.
- **Read-only.** The archive is mounted as a mutable file database, which Datasette reads through
  ``file:...?mode=ro`` connections (SQLite itself refuses any write on them), and nothing here
  asks Datasette for its write connection: no writable canned query, no write plugin.
  Not ``immutable=1``: the daemon keeps writing, and an immutable open ignores the WAL, so the
  page would miss the newest polls and could read a half-checkpointed file.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from datasette.app import Datasette
from datasette.database import Database

from guard.archive.connection import open_archive_readonly
from guard.errors import ArchiveError, ConfigError
from guard.web import DATABASE_NAME, finding_url, plugin

__all__ = [
    "DATABASE_NAME",
    "ServeOptions",
    "WebServer",
    "build_datasette",
    "finding_url",
    "is_loopback",
    "load_metadata",
    "loopback_names_only",
]

_AUTH_PLUGIN = "datasette-auth-passwords"
_HASH_PREFIX = "pbkdf2_sha256$"
# The hash is made in memory from the password in the same process, so its work factor guards
# nothing an attacker could not read directly; it is low because HTTP Basic checks it on every
# request (every stylesheet too). A hash made with `datasette hash-password` is used as given.
_HASH_ITERATIONS = 10_000


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeOptions:
    database: Path
    host: str = "127.0.0.1"
    port: int = 8001
    username: str = "staff"
    password: str | None = None  # plain text, or a pbkdf2_sha256$ hash; required off loopback

    def check(self) -> None:
        """Refuse what must not run: a non-loopback address without a password, credentials
        HTTP Basic cannot carry, a missing archive."""
        if not is_loopback(self.host) and not self.password:
            raise ConfigError(
                f"refusing to serve the archive on {self.host} without a password; set [web] "
                "password_env to a variable holding one, or serve on 127.0.0.1 (the default)"
            )
        # datasette-auth-passwords reads "user:password" as ASCII, split at the first colon:
        # anything else can never sign in (a non-ASCII password turned every request into a 500).
        if self.password and (not self.username.isascii() or ":" in self.username):
            raise ConfigError(
                f"[web] username = {self.username!r}: HTTP Basic needs ASCII letters, digits and "
                "punctuation other than ':'"
            )
        if self.password and not self.password.isascii():
            raise ConfigError(
                "[web] password (the variable password_env names) has non-ASCII characters, which "
                "HTTP Basic here cannot check; choose one of ASCII characters only"
            )
        if not self.database.is_file():
            raise ArchiveError(
                f"no archive at {self.database}; run `comment-guard init` and a first "
                "`comment-guard poll --once` before serving it"
            )


def load_metadata() -> tuple[dict[str, Any], dict[str, str]]:
    """The shipped Datasette metadata, and the declared ``links`` (column -> table)."""
    text = resources.files("guard.web").joinpath("metadata.yaml").read_text(encoding="utf-8")
    metadata = yaml.safe_load(text)
    links = metadata.pop("links", {})
    return metadata, links


def build_datasette(options: ServeOptions) -> Datasette:
    """A Datasette over the archive, read-only, with the shipped configuration."""
    options.check()
    metadata, links = load_metadata()
    plugins: dict[str, Any] = {plugin.LINKS_KEY: {"links": links}}
    if options.password:
        # The hash reaches the plugin through an environment variable of this process, so
        # /-/metadata shows {"$env": ...} and never the hash itself.
        env = f"COMMENT_GUARD_WEB_HASH_{secrets.token_hex(4).upper()}"
        os.environ[env] = _password_hash(options.password)
        plugins[_AUTH_PLUGIN] = {
            "http_basic_auth": True,
            f"{options.username}_password_hash": {"$env": env},
        }
    metadata["plugins"] = plugins
    _register_plugin()
    ds = Datasette(
        metadata=metadata,
        settings={"allow_download": False, "default_page_size": 50},
        version_note="comment-guard",
    )
    ds.add_database(
        _ReadOnlyFile(ds, path=str(options.database), is_mutable=True),
        name=DATABASE_NAME,
        route=DATABASE_NAME,
    )
    return ds


class _ReadOnlyFile(Database):
    """Datasette's mutable file database, its connections opened by the archive's own
    read-only opener.

    Datasette writes ``file:{path}?mode=ro`` as is: a '#' or '?' in the path ends the file
    name there and drops ``mode=ro``, so SQLite opened (creating it, read-write) a stray empty
    database beside the archive's folder. Read connections only: nothing here writes.
    """

    def connect(self, write: bool = False) -> Any:
        if write:
            raise ArchiveError("the served archive is read-only")
        conn = open_archive_readonly(self.path).conn  # a quoted file: URI, mode=ro, query_only
        self._all_file_connections.append(conn)  # closed with the database, as Datasette's own
        return conn


def _password_hash(password: str) -> str:
    if password.startswith(_HASH_PREFIX):
        return password
    from datasette_auth_passwords.utils import hash_password

    return str(hash_password(password, iterations=_HASH_ITERATIONS))


def _register_plugin() -> None:
    from datasette.plugins import pm

    if not pm.is_registered(plugin):
        pm.register(plugin, name="comment-guard")


_WRONG_HOST = (
    b"403: this archive page answers only to 127.0.0.1 or localhost. To reach it under another "
    b"name, set [web] host and password_env (see the README, comment-guard serve).\n"
)


# A refusal a guard answers before the app sees the request: (status, body, extra headers).
_Refusal = tuple[int, bytes, list[tuple[bytes, bytes]]]


def _guarded(app: Any, refuse: Callable[[dict[bytes, bytes]], _Refusal | None]) -> Any:
    """``app`` behind ``refuse``, which looks at an HTTP request's headers and returns the plain
    answer to send instead, or None to let the request through."""

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        refusal = refuse(dict(scope.get("headers") or ())) if scope["type"] == "http" else None
        if refusal is None:
            await app(scope, receive, send)
            return
        status, body, headers = refusal
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return guarded


def loopback_names_only(app: Any) -> Any:
    """``app``, answering 403 to a request whose ``Host`` is not a loopback name: the defence
    against DNS rebinding for the password-less loopback page. No ``Host`` at all (HTTP/1.0)
    passes: a browser always sends one."""

    def refuse(headers: dict[bytes, bytes]) -> _Refusal | None:
        host = headers.get(b"host")
        if host is not None and not is_loopback(_host_name(host.decode("latin-1"))):
            return 403, _WRONG_HOST, []
        return None

    return _guarded(app, refuse)


def readable_credentials_only(app: Any) -> Any:
    """``app``, answering 401 to HTTP Basic credentials that are not base64 of ASCII text: the
    password plugin decodes them as ASCII and answered such a header (any client can send one)
    with a 500 and a traceback in the log."""

    def refuse(headers: dict[bytes, bytes]) -> _Refusal | None:
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"basic" and not _ascii_base64(credentials.strip()):
            challenge = (b"www-authenticate", b'Basic realm="comment-guard"')
            return 401, b"401: user name and password must be ASCII\n", [challenge]
        return None

    return _guarded(app, refuse)


def _ascii_base64(value: bytes) -> bool:
    try:
        return base64.b64decode(value).isascii()
    except ValueError:  # binascii.Error: not base64 at all, which the plugin answers 401 itself
        return True


def _host_name(host: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:8001`` -> ``::1``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class WebServer:
    """Datasette under uvicorn; ``serve`` blocks until ``stop`` (or Ctrl-C)."""

    def __init__(self, options: ServeOptions) -> None:
        import uvicorn

        self.options = options
        self.datasette = build_datasette(options)
        app = self.datasette.app()
        self._config = uvicorn.Config(
            readable_credentials_only(app) if options.password else loopback_names_only(app),
            host=options.host,
            port=options.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(self._config)

    def serve(self, sockets: Sequence[socket.socket] | None = None) -> None:
        """Run until stopped; ``sockets`` (already bound) replace host and port, for tests."""
        asyncio.run(self._main(list(sockets) if sockets else None))

    async def _main(self, sockets: list[socket.socket] | None) -> None:
        await self.datasette.invoke_startup()
        await self._server.serve(sockets=sockets)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def stop(self) -> None:
        self._server.should_exit = True
