"""CLI for the long-running side: ``run`` (the daemon) and ``demo`` (the whole story, offline).

``guard.cli`` registers ``COMMANDS``; the work is in ``guard.daemon`` and ``guard.demo`` so both
are usable without click.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from guard.cli.context import Context, pass_ctx
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
def demo(speed: float, workdir: Path | None) -> None:
    """Watch comment-guard catch a deleted question, with no account and no network.

    A local stand-in for the Facebook Graph API plays the story: a post says "Thursday", a
    reader asks "wait, the meeting is TONIGHT?!?", staff fix the post and delete the question.
    Real polls archive it, the policies flag it, and you see the alert staff would get.
    """
    from guard.demo.story import run_demo

    run_demo(workdir=workdir, speed=speed)


COMMANDS = [run, demo]
