"""Tests of parsing untrusted JSON within size, depth and number limits."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.boundedjson import JsonLimits, loads, nesting_depth
from shared.errors import ContractError


def test_ordinary_json_parses_as_the_standard_library_does() -> None:
    """Within the limits the result is exactly json.loads'."""
    text = '{"a": [1, 2.5, "x[{", {"b": null}], "c": true}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 64"),
        ('{"n": ' + "9" * 5000 + "}", "more than 100 characters"),
        ('{"n": 1.' + "5" * 200 + "}", "more than 100 characters"),
        ('{"n": NaN}', "NaN is not a JSON number"),
        ('"' + "x" * (256 * 1024) + '"', "over the limit of 262144"),
        ("{not json", "not JSON"),
    ],
)
def test_inputs_over_a_limit_are_contract_errors_naming_it(text: str, limit: str) -> None:
    """Each broken limit is a ContractError that says which; nothing else escapes."""
    with pytest.raises(ContractError, match=limit):
        loads(text)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("[" * 6 + "]" * 6, "deeper than 5"),
        (json.dumps({f"k{i}": i for i in range(11)}), "holds 11 keys; the limit is 10"),
        ("1" * 21, "more than 20 characters"),
        ("1e999", "out of the range of a double"),
        ('{"a": CANARY}', "not JSON"),
        (b'"\xff"', "not UTF-8"),
        ('"' + "x" * 2000 + '"', "over the limit of 1024"),
    ],
)
def test_tightened_limits_are_contract_errors_naming_them(text: str | bytes, limit: str) -> None:
    """Each configured limit, the key limit included, refuses with its name and never quotes the input."""
    limits = JsonLimits(max_bytes=1024, max_depth=5, max_keys=10, max_number_chars=20)
    with pytest.raises(ContractError, match=limit) as caught:
        loads(text, limits=limits)
    assert "CANARY" not in str(caught.value)


def test_a_million_keys_are_refused_when_keys_are_limited() -> None:
    """The attack from issue 17: one object with a million keys, refused by a key limit of 1000."""
    text = "{" + ",".join(f'"k{i}":0' for i in range(1_000_000)) + "}"
    with pytest.raises(ContractError, match="1000000 keys"):
        loads(text, limits=JsonLimits(max_bytes=len(text), max_keys=1000))


def test_keys_are_unlimited_by_default() -> None:
    """Without ``max_keys`` an object may hold as many keys as the size allows."""
    text = json.dumps({f"k{i}": i for i in range(5000)})
    assert len(loads(text)) == 5000


def test_errors_never_quote_the_input() -> None:
    """A secret in a refused body does not appear in the error."""
    for body in ['{"token": "s3cr3t-value", "n": ' + "1" * 200 + "}", '{"token": "s3cr3t-value",']:
        with pytest.raises(ContractError) as caught:
            loads(body)
        assert "s3cr3t" not in str(caught.value)


def test_bytes_that_are_not_utf8_are_refused() -> None:
    """Invalid UTF-8 is a ContractError with the offset, not a UnicodeDecodeError."""
    with pytest.raises(ContractError, match="not UTF-8"):
        loads(b'{"a": "\xff"}')


def test_brackets_inside_strings_do_not_count_toward_depth() -> None:
    """A string full of brackets is shallow; escaped quotes do not end a string early."""
    assert nesting_depth('["[[[[", "\\"[[[", {"k": "{{{{"}]') == 2
    assert loads('["' + "[" * 1000 + '"]') == ["[" * 1000]


def test_limits_are_configurable() -> None:
    """A caller may tighten the limits."""
    with pytest.raises(ContractError, match="deeper than 2"):
        loads("[[[1]]]", limits=JsonLimits(max_depth=2))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_input_parses_or_is_a_contract_error(data: bytes | str) -> None:
    """Arbitrary bytes or text: a value or a ContractError, never another exception."""
    with contextlib.suppress(ContractError):
        loads(data)
