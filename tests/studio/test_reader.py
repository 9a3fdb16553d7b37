"""A file that is not a Studio flow gets one clear error naming what is missing."""

from __future__ import annotations

import json

import pytest

from ivr_engine.studio import StudioError, read_studio


def test_not_json_is_refused_with_the_file_name() -> None:
    with pytest.raises(StudioError, match=r"^f\.json: not JSON"):
        read_studio("{nope", "f.json")


def test_json_without_states_is_not_a_studio_flow() -> None:
    with pytest.raises(StudioError, match=r'f\.json: no "states" list: this is not a Studio flow'):
        read_studio('{"flows": []}', "f.json")


def test_the_rest_api_definition_may_be_a_json_string() -> None:
    inner = (
        '{"initial_state": "T", "states": [{"name": "T", "type": "trigger", "transitions": []}]}'
    )
    flow = read_studio(json.dumps({"friendly_name": "Main", "definition": inner}))
    assert flow.initial_state == "T" and flow.description == "Main"


def test_transitions_keep_their_order_and_unwired_ones_have_no_target() -> None:
    flow = read_studio(
        '{"initial_state": "T", "states": [{"name": "T", "type": "trigger", "transitions": '
        '[{"event": "incomingMessage"}, {"event": "incomingCall", "next": "a"}]}]}'
    )
    assert flow.trigger.transitions == {"incomingMessage": None, "incomingCall": "a"}
