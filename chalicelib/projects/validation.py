"""Project input rules: POSIX env var names, refusing names the VM itself depends on."""
from __future__ import annotations

import re
from collections.abc import Mapping

from chalicelib.projects.errors import InvalidProjectError

MAX_ENV_VARS = 100
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 4096
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Overriding these would break the VM's shell, loader or Fly's own wiring.
RESERVED_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "HOSTNAME", "IFS", "TERM", "TMPDIR",
    "LANG", "TZ", "PS1", "PS2", "PS4", "ENV", "BASH_ENV", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS",
    "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "PERL5OPT", "RUBYOPT", "JAVA_TOOL_OPTIONS",
})
RESERVED_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "FLY_", "AETHER_")


def validate_project_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidProjectError("'name' must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidProjectError(f"'name' must be at most {MAX_NAME_LENGTH} printable characters")
    return name.strip()


def validate_env(env: object) -> dict[str, str]:
    """The env as a dict of POSIX names to strings; raises InvalidProjectError (naming the var, never a value)."""
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise InvalidProjectError("'env' must be an object of NAME: value strings")
    if len(env) > MAX_ENV_VARS:
        raise InvalidProjectError(f"'env' may hold at most {MAX_ENV_VARS} variables")
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise InvalidProjectError(
                "env var names must be POSIX names: letters, digits and '_', not starting with a digit, "
                "at most 128 characters")
        if name.upper() in RESERVED_NAMES or name.upper().startswith(RESERVED_PREFIXES):
            raise InvalidProjectError(f"env var {name} is reserved")
        if not isinstance(value, str) or "\x00" in value or len(value) > MAX_VALUE_LENGTH:
            raise InvalidProjectError(
                f"env var {name} must be a string of at most {MAX_VALUE_LENGTH} characters without NUL")
    return dict(env)
