"""Tokens never reach the logs, whatever the log level or failure."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import structlog

from guard.runtime.logs import configure_logging, scrub_secrets
from tests.daemon.conftest import TOKEN, account_toml, polls, wait_for, write_config
from tests.support.graph import Sandbox

WRONG_TOKEN = "tok-REJECTED-SECRET-b83d01"


def test_tokens_never_appear_in_daemon_output(tmp_path, start_daemon):
    """At --log-level debug, with one account polling fine and one whose token the API
    rejects, neither token appears anywhere in stdout or stderr."""
    with Sandbox(token=TOKEN) as sandbox, Sandbox(token=TOKEN, page_id="100200301") as second:
        sandbox.add_comment(sandbox.add_post("hello"), "a comment")
        config = write_config(
            tmp_path,
            [
                account_toml("good", sandbox.base_url),
                account_toml(
                    "rejected", second.base_url, token_env="CG_TEST_WRONG_TOKEN", page_id="100200301"
                ),
            ],
        )
        d = start_daemon(
            config, extra_env={"CG_TEST_WRONG_TOKEN": WRONG_TOKEN}, args=("--log-level", "debug")
        )
        wait_for(
            lambda: len(polls(d.db, "good")) >= 2 and len(polls(d.db, "rejected")) >= 2,
            what="two polls of each account",
            daemon=d,
        )
        assert d.stop()[0] == 0
    output = d.stdout() + d.stderr()
    assert "poll_done" in output and "access token was rejected" in output
    assert TOKEN not in output
    assert WRONG_TOKEN not in output


def test_scrubber_blanks_a_token_quoted_inside_a_value():
    """A token inside an exception message or URL is replaced by [redacted] in the line."""
    out = io.StringIO()
    configure_logging("info", json=True, stream=out)
    scrub_secrets([TOKEN, "short"])
    structlog.get_logger("t").error("job_failed", error=f"GET /v24.0/1?access_token={TOKEN}")
    assert TOKEN not in out.getvalue()
    assert "access_token=[redacted]" in out.getvalue()


def test_a_value_already_blanked_is_left_as_it_is():
    """Scrubbing twice (a JSON log of an already scrubbed message) keeps one clean [redacted]."""
    from guard.redact import scrub

    once = scrub(f'{{"token": "{TOKEN}", "url": "/me?access_token={TOKEN}"}}')
    assert scrub(once) == once == '{"token": "[redacted]", "url": "/me?access_token=[redacted]"}'


def test_run_logs_at_info_unless_told_otherwise():
    """`run` logs every poll (info) by default; --log-level and --debug still win."""
    from guard.cli.context import Context
    from guard.cli.service import daemon_log_level

    assert daemon_log_level(Context(config_path="x")) == "info"
    assert daemon_log_level(Context(config_path="x", log_level="warning")) == "warning"
    assert daemon_log_level(Context(config_path="x", debug=True, log_level="error")) == "debug"


def test_logging_set_before_structlog_loads_holds_once_it_loads():
    """The CLI configures logging without loading structlog; a module that imports it later
    logs at the CLI's level, as JSON lines on stderr, with secret keys blanked."""
    code = (
        "import sys\n"
        "from guard.runtime.logs import configure_logging_on_use\n"
        "configure_logging_on_use('warning')\n"
        "assert 'structlog' not in sys.modules\n"
        "import structlog\n"
        "log = structlog.get_logger('probe')\n"
        "log.info('below_the_level')\n"
        "log.warning('at_the_level', token='tok-SECRET-3f1c9a77')\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    event = json.loads(line)
    assert (event["event"], event["level"]) == ("at_the_level", "warning")
    assert "3f1c9a77" not in line
