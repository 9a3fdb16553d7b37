"""Stored JSON: orjson's speed, with everything the standard library could store still storable."""

from __future__ import annotations

import json
import math

import pytest

from ivr_engine import json_text


@pytest.mark.parametrize(
    "value",
    [
        {"text": "émoji 📞 and ünïcode", "quote": 'a "b" \\ c', "nul": "x\x00y"},
        {"nested": [1, 2.5, None, True, {"deep": []}]},
        {"big": 2**70},  # beyond orjson's 64-bit integers
        {"lone surrogate": "\ud800"},  # not valid UTF-8: orjson refuses it
    ],
)
def test_round_trips_what_the_standard_library_round_trips(value: object) -> None:
    assert json_text.loads(json_text.dumps(value)) == json.loads(json.dumps(value))


def test_text_is_compact_and_keeps_non_ascii() -> None:
    assert json_text.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'


def test_non_text_keys_become_text_as_with_the_standard_library() -> None:
    assert json_text.loads(json_text.dumps({1: "one"})) == {"1": "one"}


def test_reads_nan_the_standard_library_once_wrote() -> None:
    assert math.isnan(json_text.loads('{"x": NaN}')["x"])


def test_a_value_neither_can_encode_still_fails_loudly() -> None:
    with pytest.raises(TypeError):
        json_text.dumps({"when": object()})
