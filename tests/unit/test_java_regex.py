"""The model's Java patterns, matched as Java would match them."""

from __future__ import annotations

import re

import pytest

from sagemaker_images.protocol.java_regex import compile_java, translate


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"\d+", "0123456789", True),
        (r"\d+", "\u0662\u0660", False),  # Arabic-Indic digits: \d is ASCII in Java
        (r"\w+", "é", False),
        (r"\s", "\u00a0", False),  # a no-break space is not Java's \s
        (r"\s", "\x0b", True),  # Java's \s includes the vertical tab
        (r".", "\n", False),
        (r".", "\u2028", False),  # Java's . stops at every line terminator
        (r".", "\r", False),
        (r"[\d]", "5", True),
        (r"[^\d]", "5", False),
        (r"[]a]+", "]a", True),  # a ']' first in a class is a member
        (r"[^]a]", "b", True),
        (r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", "équipe 名前 ٣", True),
        (r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", "a#b", False),
        (r"(?!^[.-])^([a-zA-Z0-9-_.]+)", "v1.2-rc_1", True),
        (r"(?!^[.-])^([a-zA-Z0-9-_.]+)", ".hidden", False),
        (r"(?!\s*$).+", "   ", False),
        (r"(?!\s*$).+", " x ", True),
    ],
)
def test_java_semantics(pattern, value, matches):
    assert (compile_java(pattern).fullmatch(value) is not None) is matches


def test_plain_patterns_use_the_standard_library_and_unicode_classes_use_regex():
    assert isinstance(compile_java("[a-z]+"), re.Pattern)
    assert not isinstance(compile_java(r"\p{L}+"), re.Pattern)
    assert compile_java("[a-z]+") is compile_java("[a-z]+")  # compiled once


def test_translation_rewrites_only_what_differs():
    assert translate("[a-zA-Z0-9](-*[a-zA-Z0-9])*") == "[a-zA-Z0-9](-*[a-zA-Z0-9])*"
    assert translate(r"\d") == "[0-9]"
    assert translate(r"[\w.]") == "[a-zA-Z_0-9.]"
    assert translate(r"\.") == r"\."
