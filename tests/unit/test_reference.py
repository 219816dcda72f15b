"""Container image references, split as Docker and the distribution registry split them."""

from __future__ import annotations

import pytest

from sagemaker_images.registry.reference import MalformedReference, Reference, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", Reference("docker.io", "library/ubuntu", "latest", None)),
        ("team/app:1.0", Reference("docker.io", "team/app", "1.0", None)),
        ("localhost/app", Reference("localhost", "app", "latest", None)),
        ("localhost:5000/a/b/c:v2", Reference("localhost:5000", "a/b/c", "v2", None)),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml/train:3",
            Reference("123456789012.dkr.ecr.us-east-1.amazonaws.com", "ml/train", "3", None),
        ),
        (f"registry.example/app@{DIGEST}", Reference("registry.example", "app", None, DIGEST)),
        (f"registry.example/app:t@{DIGEST}", Reference("registry.example", "app", "t", DIGEST)),
        ("[::1]:5000/app:x", Reference("[::1]:5000", "app", "x", None)),
        ("r.example/a__b/c-d.e_f:T_1", Reference("r.example", "a__b/c-d.e_f", "T_1", None)),
    ],
)
def test_references_are_split_into_host_repository_tag_and_digest(text, expected):
    assert parse_reference(text) == expected


def test_what_to_ask_for_and_the_pinned_form():
    tagged = parse_reference("registry.example/app:1")
    assert tagged.manifest_ref == "1"
    assert tagged.pinned(DIGEST) == f"registry.example/app@{DIGEST}"
    assert str(tagged) == "registry.example/app:1"
    assert parse_reference(f"registry.example/app:1@{DIGEST}").manifest_ref == DIGEST


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "the reference is empty or has surrounding whitespace"),
        (" app", "the reference is empty or has surrounding whitespace"),
        ("r.example/App:1", "repository path component 'App' must be lowercase"),
        ("r.example/a--/b", "repository path component 'a--' may hold only lowercase"),
        ("r.example//app", "repository path '/app' has an empty component"),
        ("r.example/app:.x", "tag '.x' must be 1 to 128 letters"),
        ("r.example:0/app", "registry port '0' is not a number from 1 to 65535"),
        ("bad_host.example/app", "registry host 'bad_host.example' is not a valid host name"),
        ("r.example/app@sha256:ABC", "digest 'sha256:ABC' is not sha256:<64 lowercase hex>"),
        ("r.example/", "the repository name is missing"),
        ("r.example/" + "a" * 300, "the name is longer than 255 characters"),
    ],
)
def test_malformed_references_say_what_is_wrong(text, why):
    with pytest.raises(MalformedReference) as excinfo:
        parse_reference(text)
    assert str(excinfo.value).startswith(why)
