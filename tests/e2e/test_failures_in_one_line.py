"""Every failure a command can foresee answers one line, `Error: ...`, naming the file, URL
(password hidden) or port and what to do, and exits 1 (2 for a mistake on the command line
itself); a traceback only at `--log-level debug`. The port is bound before anything is
written."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from support import ServerProcess, create_image, free_port, run_cli

import sagemaker_images.store

COMMANDS = ("serve", "migrate", "export", "drift")


def command(name: str) -> tuple[str, ...]:
    return (name, "--port", str(free_port())) if name == "serve" else (name,)


def one_line(result) -> str:
    """The command's one line of error, checked to be the only thing it said."""
    said = result.stderr.decode()
    assert said.count("\n") == 1 and said.startswith("Error: "), said
    assert "Traceback" not in said
    return said.strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_file_that_is_not_a_database(tmp_path, name):
    path = tmp_path / "notsqlite.db"
    path.write_text("a note, not a catalog\n")
    result = run_cli(*command(name), "--database", f"sqlite:///{path}")
    assert result.returncode == 1
    assert one_line(result) == (
        f"Error: {path} is not a SQLite database (its contents are something else): give"
        " the path of a catalog, or of a file to create"
    )


def test_the_traceback_is_there_at_debug_level(tmp_path):
    path = tmp_path / "notsqlite.db"
    path.write_text("a note, not a catalog\n")
    result = run_cli("migrate", "--database", f"sqlite:///{path}", "--log-level", "debug")
    assert result.returncode == 1
    said = result.stderr.decode()
    assert "Traceback" in said and "file is not a database" in said
    assert said.splitlines()[-1].startswith(f"Error: {path} is not a SQLite database")


def test_a_path_whose_directory_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("migrate", "--database", f"sqlite:///{blocker}/catalog.db")
    assert result.returncode == 1
    assert one_line(result).startswith(f"Error: cannot use {blocker}/catalog.db: ")


def test_a_second_server_on_one_sqlite_file(tmp_path):
    with ServerProcess(tmp_path).start() as first:
        second = run_cli("serve", "--port", str(free_port()), "--database", first.database_url)
    assert second.returncode == 1
    assert one_line(second) == (
        f"Error: another server is already serving {tmp_path / 'catalog.db'} (it holds"
        f" {tmp_path / 'catalog.db.lock'}): SQLite serves one server process; point several"
        " servers at one PostgreSQL database instead"
    )


def test_a_port_in_use_writes_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--database", f"sqlite:///{tmp_path}/c.db")
    assert result.returncode == 1
    assert one_line(result) == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use: another process"
        " is listening there (choose another --port)"
    )
    assert list(tmp_path.iterdir()) == []  # no database, no lock file


def test_an_unreachable_postgresql(tmp_path):
    url = f"postgresql://catalog:s3cret@127.0.0.1:{free_port()}/catalog"
    for command in (("serve", "--port", str(free_port())), ("migrate",)):
        result = run_cli(*command, "--database", url)
        assert result.returncode == 1
        said = one_line(result)
        assert said.startswith(
            f"Error: cannot connect to postgresql://catalog:***@{url.split('@')[1]}:"
        )
        assert "Connection refused" in said and "s3cret" not in said


def test_a_postgresql_database_that_is_not_there(databases):
    missing = databases.url_of("no_such_database")
    result = run_cli("migrate", "--database", missing)
    assert result.returncode == 1
    assert 'database "no_such_database" does not exist' in one_line(result)


# This release's schema version: its last migration's number.
LATEST = max(
    int(path.name.split("_", 1)[0])
    for path in (Path(sagemaker_images.store.__file__).parent / "migrations").glob("*.sql")
)


def test_a_database_of_a_newer_schema(tmp_path):
    path = tmp_path / "catalog.db"
    assert run_cli("migrate", "--database", f"sqlite:///{path}").returncode == 0
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, 'future', 1)"
        )
    for name in COMMANDS[:2]:
        result = run_cli(*command(name), "--database", f"sqlite:///{path}")
        assert result.returncode == 1
        assert one_line(result) == (
            f"Error: {path}: its schema is at version 999, newer than this release's {LATEST}: a"
            " newer sagemaker-images wrote it; run that release, or restore a backup made"
            " before the upgrade"
        )


def test_a_mistake_on_the_command_line_exits_2(tmp_path):
    result = run_cli("serve", "--port", "70000")
    assert result.returncode == 2
    assert one_line(result).startswith("Error: Invalid value for '--port'")


@pytest.mark.backends("postgresql")
def test_postgresql_in_any_server_encoding(make_server, databases, region):
    """A database made with SQL_ASCII (what initdb gives without a UTF-8 locale) serves
    text as any other: every connection says it speaks UTF-8."""
    name = "sql_ascii_catalog"
    with databases._admin() as admin:
        admin.execute(
            f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"
            " TEMPLATE template0"
        )
    server = make_server(database_url=databases.url_of(name))
    sm = server.client(region)
    create_image(sm, "encoded", Description="naïve café ✓")
    described = sm.describe_image(ImageName="encoded")
    assert described["Description"] == "naïve café ✓"
    assert [i["ImageName"] for i in sm.list_images()["Images"]] == ["encoded"]
