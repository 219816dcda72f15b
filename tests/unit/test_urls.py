"""Database URLs: checked before anything starts, and logged exactly as given but for a
password."""

from __future__ import annotations

import re

import pytest

from sagemaker_images.config import check_database_url, redacted, sqlite_path


@pytest.mark.parametrize(
    ("given", "logged"),
    [
        ("sqlite:////var/lib/catalog.db", "sqlite:////var/lib/catalog.db"),
        ("sqlite:///relative/catalog.db", "sqlite:///relative/catalog.db"),
        ("postgresql://app:s3cret@db:5432/catalog", "postgresql://app:***@db:5432/catalog"),
        (
            "postgresql://app@db/catalog?sslmode=require",
            "postgresql://app@db/catalog?sslmode=require",
        ),
        (
            "postgresql://db/catalog?user=app&password=s3cret&sslmode=require",
            "postgresql://db/catalog?user=app&password=***&sslmode=require",
        ),
        ("postgresql://app:p%40ss@db/catalog", "postgresql://app:***@db/catalog"),
    ],
)
def test_urls_are_logged_as_given_without_their_password(given, logged):
    assert redacted(given) == logged


def test_sqlite_paths_follow_sqlalchemy():
    assert str(sqlite_path("sqlite:////var/lib/catalog.db")) == "/var/lib/catalog.db"
    assert str(sqlite_path("sqlite:///relative.db")) == "relative.db"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sqlite://x.db", "give a file"),
        ("sqlite://", "never held only in memory"),
        ("sqlite:///:memory:", "never held only in memory"),
        ("mysql://u:pw@h/db", "unsupported database URL 'mysql://u:***@h/db'"),
        ("catalog.db", "unsupported database URL"),
    ],
)
def test_urls_no_store_can_open_are_refused(url, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        check_database_url(url)
