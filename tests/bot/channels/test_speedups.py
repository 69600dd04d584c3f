"""The cached action-response validator accepts and refuses exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.channels import speedups

GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "好"}]},
    {},
]
BAD = [
    {"events": "not a list"},
    {"responses": ["not an object"]},
    {"events": [{"event": "no_such_event"}]},
]


@pytest.mark.parametrize("result", GOOD + BAD)
def test_same_verdict_as_rasa(result: dict) -> None:
    schema = RemoteAction.action_response_format_spec()
    try:
        validate(result, schema)
        expected = None
    except ValidationError as exc:
        expected = exc.message
    speedups.install()
    action = RemoteAction("action_x", None)
    if expected is None:
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(ValidationError) as caught:
            action._validate_action_result(result)
        assert caught.value.message.startswith(expected)
        assert "custom-actions" in caught.value.message
