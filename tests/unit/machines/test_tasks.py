"""Step errors reach Step Functions with their class name and public message only."""
from __future__ import annotations

import traceback

import pytest

from chalicelib.machines.errors import FlyUnavailableError
from chalicelib.machines.tasks import StartStepError, error_code_for, step


def failing(exc: Exception):
    @step
    def launch_machine(tasks, state):
        raise exc

    return launch_machine


def test_an_unexpected_error_is_replaced_and_its_message_dropped(canary_key):
    key = canary_key("anthropic")
    with pytest.raises(StartStepError) as info:
        failing(KeyError(f"ANTHROPIC_API_KEY={key}"))(None, {"project_id": "p"})
    assert key not in str(info.value) and key not in "".join(traceback.format_exception(info.value))
    assert info.value.__suppress_context__ and info.value.__cause__ is None


def test_a_service_error_keeps_its_class_for_retry_matching_but_not_its_cause(canary_key):
    key = canary_key("openai")
    try:
        raise ValueError(key)
    except ValueError as cause:
        original = FlyUnavailableError("Fly did not complete create (HTTP 503)")
        original.__cause__ = cause
    with pytest.raises(FlyUnavailableError) as info:
        failing(original)(None, {})
    assert info.value is not original and info.value.__cause__ is None
    assert key not in "".join(traceback.format_exception(info.value))


@pytest.mark.parametrize(("name", "code"), [("FlyUnavailableError", "fly_unavailable"),
                                            ("CreateOutcomeUnknownError", "fly_unavailable"),
                                            ("FlyCapacityError", "fly_capacity"),
                                            ("MachineRolledBackError", "fly_rejected"),
                                            ("ProjectNotFoundError", "project_not_found"),
                                            ("States.Timeout", "start_timeout"),
                                            ("Lambda.Unknown", "internal_error")])
def test_error_names_map_to_codes(name, code):
    assert error_code_for(name) == code
