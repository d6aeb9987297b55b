"""Getting started: ``init`` writes a config and creates the archive, ``check`` validates it."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import click

from guard.archive.connection import open_archive
from guard.cli.context import Context, pass_ctx
from guard.cli.output import echo, emit_json
from guard.config import load_config, read_secret
from guard.errors import ConfigError, GuardError, UsageError

__all__ = ["COMMANDS"]


@click.command()
@click.option(
    "--path", "target", default=None, metavar="PATH", help="Where to write the config (default: --config)."
)
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_ctx
def init(ctx: Context, target: str | None, force: bool) -> None:
    """Write a config file from the example and create the archive database."""
    path = Path(target or ctx.config_path)
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    example = (resources.files("guard") / "config.example.toml").read_text(encoding="utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example, encoding="utf-8")
    except OSError as exc:  # a directory, a parent that is a file, no permission
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}; choose another --path") from None
    config = load_config(path)
    open_archive(config.guard.database)
    echo(f"wrote {path} and created {config.guard.database}")
    echo(
        "next: edit the [[accounts]] section, export the token variables it names, "
        f"then run `comment-guard --config {path} check --live`"
    )


@click.command()
@click.option("--live", is_flag=True, help="Also call each platform to verify tokens and permissions.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check(ctx: Context, live: bool, as_json: bool) -> None:
    """Validate the config, the environment variables it names and (--live) the tokens.

    Every missing variable is reported in one run, not one per run."""
    from connectors.registry import connect
    from guard.alerts.channels import channel_secrets

    config = ctx.config
    missing: list[str] = []
    for account in config.accounts:
        try:
            account.token()
        except ConfigError as exc:
            missing.append(str(exc))
    for env_name, key in channel_secrets(config.alerts):
        try:
            read_secret(env_name, key)
        except ConfigError as exc:
            missing.append(str(exc))
    summary = (
        f"config {config.path} is valid: {len(config.accounts)} account(s), "
        f"mode {config.guard.mode}, archive {config.guard.database}"
    )
    live_results: dict[str, list[str]] = {}
    failed = False
    if live and not missing:
        for account in config.accounts:
            try:
                live_results[account.name] = list(connect(account.connector_settings()).check())
            except GuardError as exc:
                failed = True
                live_results[account.name] = [f"FAILED: {exc}"]
    if as_json:
        emit_json(
            {"ok": not missing and not failed, "summary": summary, "missing": missing, "live": live_results}
        )
    elif missing:
        for problem in missing:
            echo(f"error: {problem}", err=True)
    else:
        echo(summary)
        for name, lines in live_results.items():
            for line in lines:
                echo(f"{name}: {line}", err=line.startswith("FAILED: "))
    if missing:
        sys.exit(2)
    if failed:
        sys.exit(1)


COMMANDS = [init, check]
