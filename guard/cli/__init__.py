"""The command line: ``main`` is the console entry point, ``cli`` the click group."""

from __future__ import annotations

from guard.cli.main import cli, main

__all__ = ["cli", "main"]
