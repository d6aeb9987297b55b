"""Start-up: ``--help`` lists every command from the registry without importing the command
modules, the listing is exactly what the commands' own help says, and ``--help``, ``status`` and
``findings`` never load the heavy modules (the classifier, slack_sdk, the scheduler, the web
server)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from guard.archive.connection import open_archive
from guard.cli.main import COMMAND_GROUPS, cli
from tests.cli.conftest import run

ROOT = Path(__file__).resolve().parents[2]

# Loaded by the commands that need them, never by `--help`, `status` or `findings`.
HEAVY = {
    "policies.classify",
    "vaderSentiment",
    "guard.engine",
    "guard.actions",
    "guard.alerts.render",
    "slack_sdk",
    "structlog",
    "apscheduler",
    "datasette",
    "uvicorn",
    "weasyprint",
    "requests",
    "tweepy",
    "pyfacebook",
    "smtplib",
}


def _loaded_by(*args: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``comment-guard ARGS``."""
    code = (
        "import json, sys\n"
        "from guard.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _small_archive(tmp_path: Path) -> Path:
    """A config with one account and its (empty) archive; returns the config's path."""
    cfg = tmp_path / "cg.toml"
    cfg.write_text(
        '[guard]\ndatabase = "archive.db"\n[[accounts]]\nname = "page"\nplatform = "facebook"\n'
        'page_id = "1"\ntoken_env = "PAGE_TOKEN"\n',
        encoding="utf-8",
    )
    open_archive(tmp_path / "archive.db").conn.close()
    return cfg


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY}


def test_registry_help_lines_are_the_commands_own():
    """Each registry entry names exactly its module's commands, with their own one-line help."""
    for module, listed in COMMAND_GROUPS.items():
        commands = importlib.import_module(f"guard.cli.{module}").COMMANDS
        actual = {c.name: c.get_short_help_str(limit=10_000) for c in commands}
        assert listed == actual, f"guard/cli/main.py COMMAND_GROUPS[{module!r}] should be {actual!r}"


@pytest.mark.parametrize("width", [80, 200, 50])
def test_lazy_help_is_the_help_click_would_print(width):
    """``--help`` at any terminal width is byte for byte the help of the same group with every
    command loaded up front."""
    eager = click.Group(
        name=cli.name,
        params=cli.params,
        callback=cli.callback,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    for module in COMMAND_GROUPS:
        for command in importlib.import_module(f"guard.cli.{module}").COMMANDS:
            eager.add_command(command)

    def help_of(group: click.Group) -> str:
        # make_context applies the group's context_settings (-h), as a real run does
        ctx = group.make_context("comment-guard", [], resilient_parsing=True, terminal_width=width)
        return group.get_help(ctx)

    assert help_of(cli) == help_of(eager)


def test_help_imports_no_command_module():
    """``--help`` loads neither a command module, nor the config, nor the archive library, nor
    anything heavy."""
    modules = _loaded_by("--help")
    assert "guard.cli.main" in modules  # the probe really ran the CLI
    assert not {f"guard.cli.{name}" for name in COMMAND_GROUPS} & modules
    assert not {"guard.config", "sqlite_utils"} & modules
    assert not _heavy(modules)


def test_status_loads_only_the_config_and_the_archive(tmp_path):
    """``status`` on an archive with no unresolved finding loads its own command module, the
    config and the archive: no heavy module, no policy, no connector."""
    cfg = _small_archive(tmp_path)
    modules = _loaded_by("--config", str(cfg), "status")
    assert {"guard.cli.polling", "guard.config", "guard.runtime.status"} <= modules
    assert not _heavy(modules)
    assert not {m for m in modules if m.split(".")[0] == "policies" or m.startswith("connectors.")} - {
        "connectors.registry"
    }


def test_listing_findings_loads_neither_the_engine_nor_the_classifier(tmp_path):
    """``findings`` reads the archive; the engine, the guarded actions and the classifier load
    only in the commands of its group that act (ack, explain, hide, ...)."""
    cfg = _small_archive(tmp_path)
    modules = _loaded_by("--config", str(cfg), "findings")
    assert "guard.cli.findings" in modules
    assert not _heavy(modules)


def test_every_moderation_action_is_a_command():
    """The CLI's moderation commands are exactly the guarded actions' MODERATION."""
    from guard import actions
    from guard.cli import findings

    assert findings.MODERATION == actions.MODERATION
    assert set(findings.MODERATION) <= {c.name for c in findings.COMMANDS}


def test_a_command_module_loads_when_its_command_runs(capsys, config):
    """The lazy group still runs every command: an unknown one is a usage error naming it, and
    a known one of a module not loaded yet runs."""
    code, _, err = run(capsys, "no-such-command")
    assert code == 2
    assert "No such command 'no-such-command'" in err
    code, _, err = run(capsys, "statu")  # suggested from every command, loaded or not
    assert code == 2
    assert "Did you mean 'status'?" in err
    code, out, _ = run(capsys, "explain", "--help")
    assert code == 0
    assert "Why a comment is (or is not) protected." in out


def test_loading_the_engine_does_not_load_the_classifier():
    """Importing the engine, the guarded actions and the stored verdicts (what ack, resolve,
    reply and hide load) compiles no classifier pattern: that waits for a classification."""
    code = (
        "import json, sys\n"
        "import guard.engine, guard.actions, guard.archive.verdicts\n"
        "print(json.dumps('policies.classify' in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) is False
