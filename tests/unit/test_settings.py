"""Settings are declared once: the command line, the environment, --help and the flag tables
of the docs (docs/operating.md, docs/pinning.md) all follow the declaration."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sagemaker_images import __version__
from sagemaker_images.cli import main
from sagemaker_images.cli.options import settings_from, settings_options
from sagemaker_images.config import (
    SERVE,
    Settings,
    environment_variable,
    flag_table,
    flagged,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Where each section's flag table lives, between `<!-- flags:<section> -->` and
# `<!-- /flags:<section> -->`.
FLAG_TABLES = {
    "server": DOCS / "operating.md",
    "resolve": DOCS / "pinning.md",
    "events": DOCS / "events.md",
}
METRICS_ELSEWHERE = ("--metrics-address", "127.0.0.1:9")


def parsed(*args: str, env: dict[str, str] | None = None) -> Settings:
    captured: list[Settings] = []

    @click.command()
    @settings_options(SERVE)
    def probe(**options: object) -> None:
        captured.append(settings_from(options))

    result = CliRunner().invoke(probe, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return captured[0]


def test_defaults_are_the_declarations():
    assert parsed() == Settings()


def test_flags_win_over_the_environment():
    settings = parsed(
        "--port",
        "9000",
        "--auth",
        "off",
        "--transitions",
        "manual",
        env={"SAGEMAKER_IMAGES_PORT": "7000", "SAGEMAKER_IMAGES_ACCOUNT_ID": "999999999999"},
    )
    assert (settings.port, settings.auth, settings.transitions) == (9000, "off", "manual")
    assert settings.account_id == "999999999999"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--port", "70000"], "70000 is not in the range 1<=x<=65535"),
        (["--resolve", "sometimes"], "'sometimes' is not one of 'off', 'required'"),
        (["--database-pool-size", "0"], "0 is not in the range x>=1"),
        (["--job-lease-seconds", "0"], "0.0 is not in the range x>0"),
        (["--transitions", "soon"], "'soon' is not immediate, manual or a number of seconds"),
        (["--transitions", "-1"], "'-1' is not immediate, manual or a number of seconds"),
    ],
)
def test_bad_values_are_usage_errors(args, complaint):
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == 2
    assert complaint in result.output


def test_help_shows_every_flag_with_its_variable_and_meaning():
    text = " ".join(
        CliRunner().invoke(main, ["serve", "--help"], terminal_width=1000).output.split()
    )
    for _, flag in flagged(SERVE):
        assert flag.name in text
        assert environment_variable(flag) in text
        assert " ".join(flag.help.replace("`", "").split()) in text, flag.name


def test_every_variable_is_the_flag_in_capitals():
    for _, flag in flagged():
        assert environment_variable(flag) == "SAGEMAKER_IMAGES_" + flag.name[2:].upper().replace(
            "-", "_"
        )
    names = [flag.name for _, flag in flagged()]
    assert len(names) == len(set(names))
    assert {f.name for f in fields(Settings)} >= {d.name for d, _ in flagged()}


@pytest.mark.parametrize("section", ["server", "resolve"])
def test_docs_tables_are_the_declared_flags(section):
    table = flag_table(section)
    path = FLAG_TABLES[section]
    start, end = f"<!-- flags:{section} -->\n\n", f"\n\n<!-- /flags:{section} -->"
    text = path.read_text()
    assert text.count(start) == 1 and text.count(end) == 1, f"{path}: one pair of markers"
    between = text[text.index(start) + len(start) : text.index(end)]
    assert between == table, f"{path.name}'s {section} table should read:\n{table}"


def test_every_flag_section_has_a_table():
    sections = {flag.section for _, flag in flagged(SERVE)}
    assert sections == set(FLAG_TABLES)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["serve", "--database", "sqlite://x.db"], "'sqlite://x.db': give a file, e.g."),
        (
            ["serve", "--database", "mysql://u:pw@h/db"],
            "unsupported database URL 'mysql://u:***@h/db'",
        ),
        (["serve", "--port", "70000"], "70000 is not in the range 1<=x<=65535"),
        (["serve", "--port", "0"], "0 is not in the range 1<=x<=65535"),
        (
            ["serve", "--credentials", "/nonexistent/keys.toml"],
            "cannot read credentials file /nonexistent/keys.toml",
        ),
        (
            ["serve", "--registries", "/nonexistent/registries.toml"],
            "/nonexistent/registries.toml: cannot read",
        ),
        (["import", "--database", "sqlite://"], "never held only in memory"),
        (["serve", "--workers", "2"], "--workers needs PostgreSQL (--database postgresql://"),
        (
            ["serve", "--workers", "2", "--database", "postgresql://h/db", *METRICS_ELSEWHERE],
            "--metrics-address serves one process's metrics",
        ),
        (["serve", "--job-concurrency", "0"], "0 is not in the range x>=1"),
        (["serve", "--no-such-flag"], "No such option '--no-such-flag'"),
        (
            ["serve", "--events-webhook", "localhost:9000/hook"],
            "'localhost:9000/hook' is not an http:// or https:// URL with a host",
        ),
        (
            ["serve", "--events-webhook", "http://ok/", "--events-webhook", "http://[::1"],
            "'http://[::1' is not a URL",
        ),
        (["serve", "--events-eventbridge", "http://h:99999"], "'http://h:99999' is not a URL"),
        (["serve", "--events-eventbridge", "ftp://h/"], "is not an http:// or https:// URL"),
    ],
)
def test_command_line_mistakes_answer_one_line_and_exit_2(args, complaint):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ")
    assert complaint in line
    assert line.endswith(f"(see 'main {args[0]} --help')")


def test_webhooks_are_repeated_or_apart_by_spaces_in_the_environment():
    assert parsed("--events-webhook", "http://a/1", "--events-webhook", "https://b/2") == Settings(
        events_webhooks=("http://a/1", "https://b/2")
    )
    from_environment = parsed(env={"SAGEMAKER_IMAGES_EVENTS_WEBHOOK": "http://a/1 http://b/2"})
    assert from_environment.events_webhooks == ("http://a/1", "http://b/2")
    # Unreachable is no mistake: the sink may come up later.
    assert parsed("--events-eventbridge", "http://127.0.0.1:1").events_eventbridge


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert (result.exit_code, result.output) == (0, f"sagemaker-images, version {__version__}\n")
