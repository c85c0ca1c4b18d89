"""Project env rules: POSIX names, reserved names refused, values are strings."""
import pytest

from chalicelib.projects.errors import InvalidProjectError
from chalicelib.projects.validation import validate_env, validate_project_name


@pytest.mark.parametrize("name", ["PATH", "HOME", "path", "LD_PRELOAD", "LD_LIBRARY_PATH", "FLY_APP_NAME",
                                  "BASH_FUNC_x%%", "SHELL", "AETHER_ANYTHING", "DYLD_INSERT_LIBRARIES"])
def test_reserved_names_are_refused(name):
    with pytest.raises(InvalidProjectError):
        validate_env({name: "x"})


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A B", "", "Ä", "A=B", "X" * 129, "A\nB"])
def test_non_posix_names_are_refused(name):
    with pytest.raises(InvalidProjectError):
        validate_env({name: "x"})


@pytest.mark.parametrize("value", [1, None, ["x"], {"a": "b"}, "a\x00b", "x" * 4097])
def test_values_must_be_strings_without_nul(value):
    with pytest.raises(InvalidProjectError):
        validate_env({"GOOD": value})


def test_error_names_the_variable_but_never_echoes_the_value():
    with pytest.raises(InvalidProjectError) as info:
        validate_env({"GOOD": "secret-value\x00"})
    assert "GOOD" in info.value.public_message and "secret-value" not in info.value.public_message


def test_valid_env_is_returned_as_is():
    env = {"_PRIVATE": "", "ANTHROPIC_API_KEY": "override", "lower_case": "ok", "A1": "x" * 4096}
    assert validate_env(env) == env


@pytest.mark.parametrize("env", [[], "A=B", 3])
def test_env_must_be_an_object(env):
    with pytest.raises(InvalidProjectError):
        validate_env(env)


@pytest.mark.parametrize("name", [None, "", "   ", "a\x07b", "x" * 101, 5])
def test_bad_project_names_are_refused(name):
    with pytest.raises(InvalidProjectError):
        validate_project_name(name)
