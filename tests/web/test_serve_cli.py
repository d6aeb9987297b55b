"""`comment-guard serve` on the command line: refusals are one line and exit 2, before binding."""

from __future__ import annotations

import pytest

from guard.config import parse_config
from guard.errors import ConfigError
from tests.cli.conftest import run as _run

BASE = """
[guard]
database = "archive.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "1"
token_env = "FB_PAGE_TOKEN"
"""


@pytest.fixture
def config(tmp_path, demo_archive):
    """A config whose archive is a copy of the demo's."""
    (tmp_path / "archive.db").write_bytes(demo_archive.read_bytes())
    path = tmp_path / "cg.toml"
    path.write_text(BASE)
    return path


@pytest.mark.parametrize("how", ["flag", "config"])
def test_serve_refuses_a_public_address_without_a_password(capsys, config, how):
    """--host 0.0.0.0 (or [web] host) with no password_env: one line, exit 2, nothing served."""
    args = ["--config", str(config), "serve", "--port", "0"]
    if how == "flag":
        args += ["--host", "0.0.0.0"]
    else:
        config.write_text(BASE + '\n[web]\nhost = "0.0.0.0"\n')
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert err.startswith("error: refusing to serve the archive on 0.0.0.0 without a password")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "Serving" not in out


def test_serve_with_an_unset_password_variable_names_it_and_not_a_value(capsys, config, monkeypatch):
    """[web] password_env naming an unset variable: one line naming the variable, exit 2."""
    monkeypatch.delenv("GUARD_WEB_PASSWORD", raising=False)
    config.write_text(BASE + '\n[web]\nhost = "0.0.0.0"\npassword_env = "GUARD_WEB_PASSWORD"\n')
    code, _, err = _run(capsys, "--config", str(config), "serve")
    assert code == 2 and "GUARD_WEB_PASSWORD" in err and len(err.strip().splitlines()) == 1


def test_serve_without_an_archive_is_one_line(capsys, tmp_path):
    """No archive yet: one line saying how to make one, exit 1, no file created."""
    path = tmp_path / "cg.toml"
    path.write_text(BASE)
    code, _, err = _run(capsys, "--config", str(path), "serve")
    assert code == 1 and err.startswith("error: no archive at") and "poll --once" in err
    assert not (tmp_path / "archive.db").exists()


@pytest.mark.parametrize(
    "table, message",
    [
        ('base_url = "guard.example.org"', "web.base_url"),
        ("port = 70000", "web.port"),
        ("colour = 1", "web.colour"),
    ],
)
def test_bad_web_settings_are_one_config_error_naming_the_key(table, message):
    """A malformed [web] key is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config(BASE + "\n[web]\n" + table + "\n")


def test_web_settings_default_to_loopback():
    """No [web] table: 127.0.0.1:8001, no password, no links from alerts."""
    web = parse_config(BASE).web
    assert (web.host, web.port, web.password_env, web.base_url) == ("127.0.0.1", 8001, None, None)
    assert parse_config(BASE + '\n[web]\nbase_url = "https://g.example.org/"\n').web.base_url == (
        "https://g.example.org"
    )


def test_serve_on_a_port_in_use_is_one_line_and_never_says_serving(capsys, config):
    """It printed "Serving … at http://127.0.0.1:N/", then uvicorn's own "ERROR: [Errno 98] …"
    and exit 3."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, out, err = _run(capsys, "--config", str(config), "serve", "--port", str(port))
    assert code == 1 and "Serving" not in out
    assert err.startswith(f"error: cannot serve on 127.0.0.1:{port}") and len(err.strip().splitlines()) == 1


def test_serve_on_port_0_prints_the_port_it_got(capsys, config, monkeypatch):
    """`--port 0` ("0 picks a free one") printed the address http://127.0.0.1:0/."""
    served = []
    monkeypatch.setattr("guard.web.server.WebServer.serve", lambda self, sockets=None: served.append(sockets))
    code, out, _ = _run(capsys, "--config", str(config), "serve", "--port", "0")
    (sockets,) = served
    port = sockets[0].getsockname()[1]
    sockets[0].close()
    assert code == 0 and port != 0 and f"http://127.0.0.1:{port}/" in out
