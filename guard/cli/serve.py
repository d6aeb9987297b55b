"""CLI: ``serve``, the archive as a read-only web page for staff (Datasette)."""

from __future__ import annotations

import socket

import click

from guard.cli.context import Context, pass_ctx
from guard.config_reader import read_secret
from guard.errors import GuardError

__all__ = ["COMMANDS", "serve"]


@click.command()
@click.option(
    "--host", default=None, metavar="ADDRESS", help="Address to bind (default: [web] host, 127.0.0.1)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: [web] port, 8001).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Browse the archive in a web browser: findings, deleted and hidden comments, every version.

    Read-only (the archive is opened with SQLite's mode=ro). Binds 127.0.0.1 unless told
    otherwise; any other address needs a password ([web] password_env), asked with HTTP Basic
    on every request. Stop with Ctrl-C.
    """
    from guard.web.server import ServeOptions, WebServer

    web = ctx.config.web
    password = read_secret(web.password_env, "web.password_env") if web.password_env else None
    options = ServeOptions(
        database=ctx.config.guard.database,
        host=host or web.host,
        port=web.port if port is None else port,
        username=web.username,
        password=password,
    )
    server = WebServer(options)  # refuses a public address without a password, a missing archive
    where = f"[{options.host}]" if ":" in options.host else options.host
    # Bound here, before saying "Serving": a port in use is our one-line error, not uvicorn's
    # after the banner, and port 0 prints the port it got.
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    try:
        sock = socket.create_server((options.host, options.port), family=family)
    except OSError as exc:
        raise GuardError(
            f"cannot serve on {where}:{options.port}: {exc.strerror or exc}; choose another --port "
            "(or [web] port), or stop what is listening there"
        ) from None
    port = sock.getsockname()[1]
    login = f" (user {options.username!r}, password from ${web.password_env})" if password else ""
    click.echo(f"Serving {options.database} read-only at http://{where}:{port}/{login}; Ctrl-C stops")
    server.serve([sock])


COMMANDS = [serve]
