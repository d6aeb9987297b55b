"""CLI for the long-running side: ``run`` (the daemon) and ``demo`` (the whole story, offline).

``guard.cli`` registers ``COMMANDS``; the work is in ``guard.daemon`` and ``guard.demo`` so both
are usable without click.
"""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path
from typing import Any

import click

from guard.cli.context import Context, pass_ctx
from guard.cli.output import echo
from guard.runtime.logs import configure_logging

__all__ = ["COMMANDS", "run", "demo", "daemon_log_level"]


def daemon_log_level(ctx: Context) -> str:
    """One-shot commands log only errors by default (their result is printed); a daemon
    that says nothing while it works is worse, so ``run`` logs at info (every ``poll_done``)
    unless ``--log-level`` or ``--debug`` says otherwise."""
    if ctx.debug:
        return "debug"
    return ctx.log_level or "info"


@click.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Run the daemon: poll every account on its schedule, apply the policies, deliver alerts.

    Logs are JSON lines on stdout (a readable console when stdout is a terminal). Stops
    cleanly on SIGTERM or Ctrl-C. Only one daemon may run per archive.
    """
    from guard.runtime.daemon import Daemon, hard_exit

    config = ctx.config  # a config error is one line on stderr, before any logging starts
    configure_logging(daemon_log_level(ctx), stream=sys.stdout)
    clean = Daemon(config, stop_timeout=config.guard.stop_timeout.total_seconds()).run()
    sys.stdout.flush()
    if not clean:
        hard_exit(0)  # the stop was requested and nothing half-written remains


@click.command()
@click.option(
    "--speed",
    type=click.FloatRange(min=0, max=100),  # a larger factor overflows time.sleep
    default=1.0,
    show_default=True,
    help="Multiplies the pauses between steps; 0 runs without pauses.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Where to write the demo's config, archive and alert copies (default: a new temporary directory).",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Afterwards keep the stand-in page and alert sinks up until Ctrl-C, to try poll and run on them.",
)
def demo(speed: float, workdir: Path | None, keep: bool) -> None:
    """Watch comment-guard catch a deleted question, with no account and no network.

    A local stand-in for the Facebook Graph API plays the story: a post says "Thursday", a
    reader asks "wait, the meeting is TONIGHT?!?", staff fix the post and delete the question.
    Real polls archive it, the policies flag it, and you see the alert staff would get.
    """
    from guard.demo.story import run_demo

    run_demo(workdir=workdir, speed=speed, keep=_hold_until_interrupted if keep else None)


def _hold_until_interrupted(result: Any, env_file: Path) -> None:
    """Say how to use the stand-in from another shell, then wait for Ctrl-C (a clean exit)."""
    config = shlex.quote(str(result.config_path))
    echo("")
    echo("The stand-in page and the alert sinks stay up until you press Ctrl-C. In another terminal:")
    echo(f"  . {shlex.quote(str(env_file))}     # the stand-in's token and Slack address")
    for command in ("poll --once", "run", "check --live"):
        echo(f"  comment-guard --config {config} {command}")
    try:
        _wait_forever()
    except KeyboardInterrupt:
        echo("stopped; the archive stays in " + shlex.quote(str(result.workdir)))


COMMANDS = [run, demo]


def _wait_forever() -> None:
    threading.Event().wait()
