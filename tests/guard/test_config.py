"""The config contract: valid files load, every mistake is one clear line naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from guard.config import load_config, parse_config
from guard.errors import ConfigError

MINIMAL = """
[guard]
database = "x.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "123"
token_env = "FB_PAGE_TOKEN"
"""


def test_example_config_loads_with_documented_defaults():
    """config.example.toml is valid and gives the documented defaults."""
    cfg = load_config(Path(__file__).parents[2] / "config.example.toml")
    acc = cfg.accounts[0]
    assert acc.poll_every == timedelta(minutes=5) and acc.graph_version == "v24.0"
    assert cfg.policy.reply_within == timedelta(hours=2) and cfg.guard.mode == "observe"


def test_minimal_config_gets_defaults():
    """Only the required keys are needed."""
    cfg = parse_config(MINIMAL)
    assert cfg.accounts[0].watch_days == 14 and "slack" not in cfg.alerts.channels


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ('poll_every = "5 minutes"', "accounts[0].poll_every: '5 minutes' is not a duration"),
        ('watch_days = "14"', "accounts[0].watch_days must be an integer, got a string '14'"),
        ('platfrom = "x"', "unknown key accounts[0].platfrom"),
        ('graph_version = "latest"', "graph_version = 'latest'"),
        ('api_base_url = "localhost:8080"', "api_base_url must start with http"),
    ],
)
def test_account_mistakes_name_the_key_and_line(snippet, expected):
    """Each mistake is one ConfigError line with the file line and the key."""
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + snippet + "\n", Path("cg.toml"))
    msg = str(err.value)
    assert expected in msg and msg.startswith("cg.toml:10:") and "\n" not in msg


def test_unknown_section_and_wrong_platform_are_rejected():
    """Top-level typos and unsupported platforms are caught too."""
    with pytest.raises(ConfigError, match="unknown key polcy"):
        parse_config(MINIMAL + '[polcy]\nreply_within = "2h"\n')
    with pytest.raises(ConfigError, match="platform = 'myspace' is not one of: facebook, instagram, x"):
        parse_config(MINIMAL.replace('"facebook"', '"myspace"'))


def test_missing_required_key_and_bad_toml():
    """A missing key or broken TOML says so."""
    with pytest.raises(ConfigError, match="missing required key accounts\\[0\\].token_env"):
        parse_config(MINIMAL.replace('token_env = "FB_PAGE_TOKEN"', ""))
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[guard\n")


def test_missing_token_variable_names_the_variable_not_a_value(monkeypatch):
    """Tokens come from the environment; the error names the variable and how to set it."""
    cfg = parse_config(MINIMAL)
    with pytest.raises(ConfigError, match="environment variable FB_PAGE_TOKEN .* is not set"):
        cfg.accounts[0].token()
    monkeypatch.setenv("FB_PAGE_TOKEN", "secret-value")
    assert cfg.accounts[0].token() == "secret-value"


def test_routes_must_name_configured_channels():
    """A route to an unconfigured channel is an error, not a silently dropped alert."""
    text = MINIMAL + '[alerts]\nroutes = [{channels = ["slack"]}]\n'
    with pytest.raises(ConfigError, match="\\[alerts.slack\\] is not configured"):
        parse_config(text)


def test_unknown_time_zone_is_a_config_error():
    """guard.timezone must be an IANA zone, checked when the config loads."""
    with pytest.raises(ConfigError, match="not a known time zone"):
        parse_config(MINIMAL.replace('database = "x.db"', 'database = "x.db"\ntimezone = "Mars/Olympus"'))


def test_stop_timeout_defaults_to_8s_and_may_not_exceed_10s(tmp_path):
    """guard.stop_timeout bounds how long SIGTERM waits for a running poll; systemd's
    TimeoutStopSec is 15 s, so more than 10 s is refused when the config loads."""
    assert parse_config(MINIMAL).guard.stop_timeout == timedelta(seconds=8)
    path = tmp_path / "cg.toml"
    path.write_text(MINIMAL.replace('database = "x.db"', 'database = "x.db"\nstop_timeout = "1s"'))
    assert load_config(path).guard.stop_timeout == timedelta(seconds=1)
    with pytest.raises(ConfigError, match=r":4: guard.stop_timeout must be at most 10s"):
        parse_config(MINIMAL.replace('database = "x.db"', 'database = "x.db"\nstop_timeout = "11s"'))


@pytest.mark.parametrize("markers", ['["correction", ""]', '["update", "  "]'])
def test_a_blank_correction_marker_is_a_config_error(markers):
    """A blank marker (a stray "" left while editing the list) made every ':' or '-' in a post
    or a page reply a correction marker: posts counted as corrected, and any page reply with a
    dash as the public acknowledgement that keeps silent-correction from opening."""
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + f"\n[policy]\nmarkers = {markers}\n", Path("cg.toml"))
    msg = str(err.value)
    assert msg.startswith("cg.toml:12:") and "policy.markers has a blank entry" in msg


@pytest.mark.parametrize("page_id", ['""', '"  "', "-5", '"123/../../me"', '"123?fields=x"'])
def test_a_page_id_no_platform_has_is_a_config_error(page_id):
    """A blank page_id passed `check` and made the connector read `//feed`; one with '/' or '?'
    reads another object than the page the config names."""
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL.replace('page_id = "123"', f"page_id = {page_id}"), Path("cg.toml"))
    msg = str(err.value)
    assert msg.startswith("cg.toml:8:") and "accounts[0].page_id" in msg and "\n" not in msg


@pytest.mark.parametrize("budget", ["0", "-5"])
def test_a_read_budget_below_one_is_a_config_error(budget):
    """A budget of 0 or less passed `check`, then every poll of the X account was "budget
    reached" until the 1st of next month: an account that is never archived."""
    snippet = MINIMAL.replace('platform = "facebook"', 'platform = "x"') + f"monthly_read_budget = {budget}\n"
    with pytest.raises(ConfigError) as err:
        parse_config(snippet, Path("cg.toml"))
    msg = str(err.value)
    assert msg.startswith("cg.toml:10:") and "monthly_read_budget must be at least 1" in msg


SECOND = """
[[accounts]]
name = "library"
platform = "facebook"
page_id = "456"
token_env = "FB_PAGE_TOKEN"
"""


@pytest.mark.parametrize(
    "text,line",
    [
        (MINIMAL + 'poll_every = "5m"\n' + SECOND + 'poll_every = "5 minutes"\n', 17),  # a bad value
        (MINIMAL + SECOND.replace('token_env = "FB_PAGE_TOKEN"\n', ""), 11),  # a missing key: its table
        (MINIMAL + SECOND + "platfrom = 1\n", 16),  # an unknown key
    ],
)
def test_a_mistake_in_the_second_account_names_its_own_line(text, line):
    """The line came from the first occurrence of the key in the file: a mistake in the second
    [[accounts]] block pointed at the first block, which is right."""
    with pytest.raises(ConfigError) as err:
        parse_config(text, Path("cg.toml"))
    assert str(err.value).startswith(f"cg.toml:{line}: ") and "accounts[1]" in str(err.value)


@pytest.mark.parametrize(
    "second,line,needle",
    [
        (SECOND.replace('"library"', '"main-page"'), 12, "account name 'main-page' is used twice"),
        (SECOND.replace('"456"', '"123"'), 14, "accounts 'main-page' and 'library' both watch"),
    ],
)
def test_a_repeated_account_or_page_names_the_line_of_the_repeat(second, line, needle):
    """The README promises file, line and key for every mistake; these two named only the file."""
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + second, Path("cg.toml"))
    assert str(err.value).startswith(f"cg.toml:{line}: ") and needle in str(err.value)
