"""``comment-guard auth x --account NAME``: sign an X account in once; the daemon keeps the token
fresh from then on (OAuth 2.0 Authorization Code with PKCE, ``offline.access``).

Prints the authorize URL, reads back the URL the browser was redirected to, exchanges the code
and stores the grant (refresh token included) in ``[guard] state_dir`` with mode 0600: outside
the config, readable only by the user running the command (run it as the service user). The
tokens are never printed.
"""

from __future__ import annotations

import click

from guard.cli.context import Context, pass_ctx
from guard.clock import utcnow
from guard.errors import ConfigError
from guard.token_store import FileTokenStore

__all__ = ["COMMANDS", "auth"]

DEFAULT_REDIRECT = "http://127.0.0.1:8788/callback"


@click.group()
def auth() -> None:
    """Sign an account in with the platform (tokens that refresh themselves)."""


@auth.command("x")
@click.option("--account", "name", required=True, help="The [[accounts]] name (platform x).")
@click.option(
    "--client-id",
    envvar="X_CLIENT_ID",
    required=True,
    help="OAuth 2.0 Client ID of your X app (type: Native App / public client); env X_CLIENT_ID.",
)
@click.option(
    "--redirect-uri",
    default=DEFAULT_REDIRECT,
    show_default=True,
    help="A callback URL registered in the X app; nothing needs to listen there.",
)
@click.option(
    "--redirect-url",
    "pasted",
    default=None,
    help="The URL the browser landed on (asked for interactively when left out).",
)
@pass_ctx
def auth_x(ctx: Context, name: str, client_id: str, redirect_uri: str, pasted: str | None) -> None:
    """Sign an X account in (OAuth 2.0 PKCE) and store its refresh token for the daemon."""
    account = ctx.config.account(name)
    if account.platform != "x" or account.token_file is None:
        raise ConfigError(f"account {name!r} is platform {account.platform}; `auth x` signs in X accounts")
    from connectors._x_client import X_API_BASE  # the X client (tweepy): only to sign in
    from connectors._x_oauth import code_from_redirect, exchange_code, start_pkce

    start = start_pkce(client_id, redirect_uri)
    click.echo("1. Open this address signed in as the guarded X account, and allow access:")
    click.echo(f"   {start.url}")
    click.echo(
        f"2. The browser then goes to {redirect_uri}?state=…&code=… (the page may not load: that is fine)."
    )
    if pasted is None:
        pasted = click.prompt("3. Paste that whole address here", prompt_suffix="\n> ")

    code = code_from_redirect(pasted, start.state)
    grant = exchange_code(account.api_base_url or X_API_BASE, start, code, now=utcnow())
    if "refresh_token" not in grant:
        raise ConfigError(
            "X returned no refresh token, so the app must request offline.access (it is in the URL) "
            "and be a Native App or Web App with OAuth 2.0 enabled"
        )  # not "token: the": the scrubbing (guard.redact) would take "the" for a token
    grant["account"] = name
    store = FileTokenStore(account.token_file)
    store.save(grant)
    scopes = grant.get("scope") or "?"
    click.echo(
        f"signed in: {name}'s grant is in {account.token_file} (mode 0600, scopes: {scopes}); "
        "the daemon refreshes the token before it expires"
    )


COMMANDS = [auth]
