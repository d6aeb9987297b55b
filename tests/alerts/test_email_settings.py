"""``[alerts.email]`` mistakes are config errors at ``check``, not an alert that fails (or goes
to the wrong place) at 3 a.m.: a blank host, a value that is not one address, a header break."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.config import parse_config
from guard.errors import ConfigError
from tests.cli.conftest import account_toml

BASE = (
    '\n[guard]\ndatabase = "x.db"\n'
    + account_toml()
    + """
[alerts.email]
smtp_host = "smtp.example.org"
from = "guard@example.org"
to = ["comms@example.org"]
"""
)


def _parse(replace: str, by: str) -> None:
    assert replace in BASE
    parse_config(BASE.replace(replace, by), Path("cg.toml"))


@pytest.mark.parametrize(
    ("replace", "by", "line", "says"),
    [
        ('smtp_host = "smtp.example.org"', 'smtp_host = ""', 12, "smtp_host = '' is not a host name"),
        ('smtp_host = "smtp.example.org"', 'smtp_host = "smtp example"', 12, "is not a host name"),
        (
            'from = "guard@example.org"',
            'from = "not an address"',
            13,
            "from: 'not an address' is not an email",
        ),
        (
            'to = ["comms@example.org"]',
            'to = ["a@example.org, b@example.org"]',
            14,
            "is not an email address",
        ),
        ('to = ["comms@example.org"]', 'to = ["x@example.org\\nBcc: e@evil.example"]', 14, "\\nBcc"),
        ('to = ["comms@example.org"]', 'to = ["ok@example.org"]\ntimeout = 0', 15, "timeout = 0 must be"),
    ],
)
def test_an_email_setting_no_server_could_use_is_one_config_line(replace, by, line, says):
    with pytest.raises(ConfigError) as err:
        _parse(replace, by)
    msg = str(err.value)
    assert msg.startswith(f"cg.toml:{line}:") and says in msg and "\n" not in msg


@pytest.mark.parametrize(
    "toml", ['"Comms Team <comms@example.org>"', "'\"Comms, Team\" <comms@example.org>'", '"root@localhost"']
)
def test_display_names_and_local_mailboxes_are_addresses(toml):
    _parse('to = ["comms@example.org"]', f"to = [{toml}]")
