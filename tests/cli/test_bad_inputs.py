"""Inputs that used to end in "unexpected … please report it": each is now one clear line and a
non-zero exit, with no traceback."""

from __future__ import annotations

import sqlite3

import pytest

from guard.archive.export import export_records
from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "unexpected" not in err and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def page(rsps):
    return FakePage(
        rsps, [FakePost(POST, "The meeting is Thursday.", comments=[FakeComment("1_1", "Tonight?")])]
    )


def test_resolve_with_an_id_beyond_sqlite_integers(capsys, config):
    """`resolve 99999999999999999999999` is a usage error naming the range."""
    code, _, err = run(capsys, "resolve", "99999999999999999999999")
    assert code == 2 and "is not in the range" in _one_line(err)


def test_export_into_a_missing_directory(capsys, config, page):
    """`export -o /missing/dir/x` names the path and why it cannot be written."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "export", "-o", "/missing/dir/x")
    assert code == 2 and "cannot write /missing/dir/x: No such file or directory" in _one_line(err)


@pytest.mark.parametrize(
    "line,needle",
    [
        ('poll_every = "99999999999h"', "poll_every: '99999999999h' is too long"),
        ("watch_days = 100000000", "watch_days must be between 1 and 3650"),
    ],
)
def test_absurd_durations_and_windows_are_config_errors(capsys, config, line, needle):
    """Values that overflow date arithmetic are refused at load, naming file, line and key."""
    config.write_text(config.read_text() + line + "\n")
    code, _, err = run(capsys, "check")
    assert code == 2 and needle in _one_line(err) and "cg.toml:" in err


def test_utf16_config_is_named_as_such(capsys, config):
    """A config saved as UTF-16 (Windows Notepad) says to save it as UTF-8."""
    config.write_bytes(config.read_text().encode("utf-16"))
    code, _, err = run(capsys, "check")
    assert code == 2 and "the file is UTF-16; save it as UTF-8" in _one_line(err)


def test_invalid_utf8_config_names_the_line(capsys, config):
    """Latin-1 bytes in the config: one line naming the line number."""
    config.write_bytes(config.read_bytes() + b"# caf\xe9\n")
    code, _, err = run(capsys, "check")
    assert code == 2 and "not UTF-8 text" in _one_line(err)


def test_corrupted_database_page_is_one_line_for_reads_and_polls(capsys, config, page, tmp_path):
    """A damaged page in the archive: read commands and polls say the file is damaged."""
    run(capsys, "poll", "--once")
    db = tmp_path / "archive.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    for start in range(page_size, len(data), page_size):  # every page but the schema's
        data[start : start + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    code, _, err = run(capsys, "comments")
    assert code == 1 and "the archive file is damaged" in _one_line(err)
    code, _, err = run(capsys, "poll", "--once")  # the poll, then the deadline sweep, each say so
    assert code == 1 and "unexpected" not in err and "Traceback" not in err
    assert all("the archive file is damaged" in line for line in err.strip().splitlines())


def test_full_disk_during_poll_once_is_one_line_and_writes_nothing(capsys, config, page, monkeypatch):
    """SQLite's "database or disk is full" while a poll writes: one line, exit 1, no partial poll."""
    import guard.runtime.pipeline as pipeline

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    real = pipeline.write_poll
    monkeypatch.setattr(pipeline, "write_poll", full)
    code, _, err = run(capsys, "poll", "--once")
    assert code == 1 and "disk is full" in _one_line(err)
    monkeypatch.setattr(pipeline, "write_poll", real)
    code, out, _ = run(capsys, "posts", "--json")
    assert code == 0 and out.strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--until", "9999-12-31"),  # a bare --until date means the end of that day
        ("export", "--since", "9999-12-31T23:00:00-05:00"),  # in UTC: year 10000
        ("comments", "--since", "0001-01-01T00:00:00+05:00"),  # in UTC: year 0
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_usage_errors(capsys, config, page, args):
    """A date Python can parse but not move to UTC is refused in one line, exit 2."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, *args)
    assert code == 2 and "is out of range" in _one_line(err)


@pytest.mark.parametrize("head", ["zz", "", "410e6def6331"])
def test_verify_head_that_is_not_a_hash_is_a_usage_error_not_tampering(capsys, config, page, head):
    """A mistyped or shortened --head cannot be in any chain: saying TAMPERED would accuse an
    intact archive. It is a usage error naming the form a head has."""
    run(capsys, "poll", "--once")
    code, out, err = run(capsys, "verify", "--head", head)
    assert code == 2 and "64 hexadecimal characters" in _one_line(err) and "TAMPERED" not in out + err


@pytest.mark.parametrize("name", ["", "FB PAGE TOKEN", "$FB_PAGE_TOKEN"])
def test_an_env_key_that_names_no_variable_says_so(capsys, config, name):
    """`token_env = ""` printed "environment variable  (named by …) is not set; … `export =...`":
    a name no shell can export is a config error saying what a name looks like."""
    config.write_text(config.read_text().replace('token_env = "FB_PAGE_TOKEN"', f'token_env = "{name}"'))
    code, _, err = run(capsys, "check")
    line = _one_line(err)
    assert code == 2 and "is not an environment variable name" in line and "export" not in line


def test_export_until_before_since_is_a_usage_error_not_an_empty_record(capsys, config, page):
    """Swapped dates answered a records request with `[]` and exit 0, as if nothing was posted
    then."""
    run(capsys, "poll", "--once")
    code, out, err = run(capsys, "export", "--since", "2026-11-30", "--until", "2026-11-01")
    assert code == 2 and "--until" in _one_line(err) and "--since" in err and out == ""


@pytest.mark.parametrize("where", ["a-directory", "a-file/cg.toml"])
def test_init_where_no_file_can_be_written_is_one_line(capsys, tmp_path, where):
    """`init --path` onto a directory (even with --force) or under a file: one line naming the
    path, not "unexpected IsADirectoryError"."""
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("")
    target = tmp_path / where
    code, _, err = run(capsys, "init", "--path", str(target), "--force")
    assert code == 2 and f"cannot write {target}" in _one_line(err)


@pytest.mark.parametrize("command", [("posts",), ("status",), ("search", "Thursday"), ("verify",)])
def test_an_archive_from_a_newer_comment_guard_is_refused_by_reads_too(capsys, config, page, command):
    """Writes refused an archive of a newer schema ("upgrade comment-guard to read it") while
    read commands answered from it as if they knew its tables and statuses."""
    run(capsys, "poll", "--once")
    with sqlite3.connect(config.parent / "archive.db") as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.close()
    code, out, err = run(capsys, *command)
    assert code == 1 and "written by a newer comment-guard" in _one_line(err) and out == ""


@pytest.mark.parametrize("command", [("posts",), ("poll", "--once")])
def test_a_schema_version_that_is_not_a_number_is_named(capsys, config, page, command):
    """A hand-edited meta row ('abc') was "unexpected ValueError: invalid literal for int()"."""
    run(capsys, "poll", "--once")
    with sqlite3.connect(config.parent / "archive.db") as conn:
        conn.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    conn.close()
    code, _, err = run(capsys, *command)
    assert code == 1 and "schema version 'abc'" in err and "unexpected" not in err


@pytest.mark.parametrize("database", ["", ".", "archives/"])
def test_a_database_that_names_a_directory_is_a_config_error(capsys, config, database):
    """`database = ""` or a directory passed `check` ("config is valid … archive .") and then
    every command failed with "no archive at ." or "unable to open database file"."""
    (config.parent / "archives").mkdir()
    config.write_text(config.read_text().replace('database = "archive.db"', f'database = "{database}"'))
    for command in (("check",), ("posts",)):
        code, _, err = run(capsys, *command)
        assert code == 2 and "guard.database must name the archive file" in _one_line(err)
        assert "cg.toml:3" in err


@pytest.mark.parametrize(
    "pasted", ["abcd efgh ijkl mnop qrst uvwx", "bWFrZXRoaXNhc2VjcmV0dG9rZW4xMjM0NTY3ODkw"]
)
def test_a_secret_pasted_into_an_env_key_is_never_printed(capsys, config, pasted):
    """The newcomer's slip: the token itself in `token_env` (an application password with
    spaces, an X token of letters and digits). The error names the key, never the value: it
    would go to the terminal and, under systemd, to the journal."""
    config.write_text(config.read_text().replace('token_env = "FB_PAGE_TOKEN"', f'token_env = "{pasted}"'))
    for command in (("check",), ("check", "--json"), ("poll", "--once")):
        code, out, err = run(capsys, *command)
        assert code == 2 and "accounts.main-page.token_env" in out + err
        assert pasted not in out + err and "[redacted]" not in out + err


def test_a_config_that_never_ends_is_refused_not_read_into_memory(capsys):
    """`--config /dev/zero` (or a huge file) read until memory ran out: "unexpected MemoryError"."""
    code, _, err = run(capsys, "--config", "/dev/zero", "check")
    assert code == 2 and "larger than" in _one_line(err)


def test_the_archive_given_as_the_config_is_named_as_such(capsys, config, page):
    """`--config archive.db` said "not UTF-8 text; save the file as UTF-8": advice that would
    destroy the archive."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "--config", str(config.parent / "archive.db"), "check")
    assert code == 2 and "is a SQLite database" in _one_line(err) and "UTF-8" not in err


def test_an_archive_another_program_holds_locked_is_one_line_saying_so(capsys, config, page, monkeypatch):
    """A sqlite3 shell or a database browser holding a write transaction: after the busy wait a
    write said "unexpected OperationalError: database is locked … please report it"."""
    run(capsys, "poll", "--once")
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **kw: connect(*a, **{**kw, "timeout": 0.05}))
    holder = connect(config.parent / "archive.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(capsys, "mark-corrected", POST, "--note", "Thursday -> 13th")
    finally:
        holder.rollback()
        holder.close()
    assert code == 1 and "another program" in _one_line(err)


def test_export_onto_a_full_disk_is_one_line_and_leaves_no_partial_file(capsys, config, page, tmp_path):
    """A disk that fills while the export streams was "unexpected OSError: [Errno 28]", and the
    cut-off file stayed behind, looking like a complete answer to a records request."""
    run(capsys, "poll", "--once")
    target = tmp_path / "out.csv"
    target.symlink_to("/dev/full")
    code, _, err = run(capsys, "export", "-o", str(target))
    assert code == 1 and f"cannot write {target}: No space left on device" in _one_line(err)
    assert not target.exists() and not target.is_symlink()


@pytest.mark.parametrize("command", [("posts",), ("export",), ("status",)])
def test_output_onto_a_full_disk_is_one_line(capsys, config, page, monkeypatch, command):
    """`comment-guard posts > file` on a full disk: "unexpected OSError: [Errno 28] … please
    report it", as if it were a bug."""
    run(capsys, "poll", "--once")
    full = open("/dev/full", "w")  # noqa: SIM115
    monkeypatch.setattr("sys.stdout", full)
    try:
        code, _, err = run(capsys, *command)
    finally:
        monkeypatch.undo()
        try:
            full.close()
        except OSError:
            pass  # what was left in its buffer cannot be written either
    assert code == 1 and "No space left on device" in _one_line(err)


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--speed", "1e308"), "'--speed'"),  # the pause overflowed time.sleep
        (("--speed", "0", "--workdir", "/proc/no-such-dir"), "cannot use /proc/no-such-dir"),
    ],
)
def test_demo_arguments_it_cannot_use_are_one_line(capsys, args, needle):
    """They were "unexpected OverflowError" (after the story began) and "…FileNotFoundError"."""
    code, out, err = run(capsys, "demo", *args)
    assert code == 2 and needle in _one_line(err) and "TONIGHT" not in out


def test_an_export_stopped_with_ctrl_c_leaves_no_partial_file(capsys, config, page, tmp_path, monkeypatch):
    """Ctrl-C halfway through `export -o` left the rows written so far in a file that reads like
    a complete (smaller) answer to a records request."""
    run(capsys, "poll", "--once")

    def interrupted(db, filters):
        rows = export_records(db, filters)
        yield next(rows)
        raise KeyboardInterrupt

    monkeypatch.setattr("guard.cli.evidence.export_records", interrupted)
    target = tmp_path / "out.csv"
    code, _, _ = run(capsys, "export", "-o", str(target))
    assert code == 130 and not target.exists()
