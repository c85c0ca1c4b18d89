"""Registry of coding-agent CLIs and the allow-listed tokens the detector may keep."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentSpec:
    """One agent CLI: its canonical name, the binaries that launch it and its model flags."""

    name: str
    binaries: tuple[str, ...]
    packages: tuple[str, ...] = ()  # npm/PyPI names seen after `npx`/`bunx`/`uvx`
    model_flags: tuple[str, ...] = ("--model",)
    # How the agent prints its model (kinds understood by the detector), and its missing-key screens.
    model_prints: tuple[str, ...] = ("claude-display", "labelled", "claude-id", "gpt-id", "gemini-id")
    missing_key_phrases: tuple[str, ...] = ("Missing API key", "Invalid API key", "Not logged in")


AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec(
        "claude", ("claude",), ("@anthropic-ai/claude-code",),
        model_prints=("claude-display", "claude-id"),
        missing_key_phrases=("Missing API key", "Invalid API key", "Select login method", "Please run /login"),
    ),
    AgentSpec(
        "codex", ("codex",), ("@openai/codex",), ("-m", "--model"),
        model_prints=("labelled", "gpt-id"),
        missing_key_phrases=("Sign in with ChatGPT", "Provide your own API key"),
    ),
    AgentSpec(
        "gemini", ("gemini",), ("@google/gemini-cli",), ("-m", "--model"),
        model_prints=("gemini-id",),
        missing_key_phrases=(
            "How would you like to authenticate", "must specify the GEMINI_API_KEY", "API key not valid",
        ),
    ),
    AgentSpec("qwen", ("qwen",), ("@qwen-code/qwen-code",), missing_key_phrases=("How would you like to authenticate",)),
    AgentSpec(  # aider's -m is --message, never a model
        "aider", ("aider",), ("aider-chat",),
        model_prints=("labelled",),
        missing_key_phrases=("expects these environment variables", "no API keys were provided"),
    ),
    AgentSpec("opencode", ("opencode",), ("opencode-ai",), ("-m", "--model")),
    AgentSpec("amp", ("amp",), ("@ampcode/cli",), ()),
    AgentSpec(
        "crush", ("crush",), ("@charmland/crush",), ("-m", "--model"),
        missing_key_phrases=("no providers configured", "invalid API key"),
    ),
    AgentSpec("copilot", ("copilot",), ("@github/copilot",)),
    AgentSpec("droid", ("droid",), ("@factory/cli",), ("-m", "--model")),
    AgentSpec("cline", ("cline",), ("cline",)),
    AgentSpec("kilo", ("kilo", "kilocode"), ("@kilocode/cli",)),
    AgentSpec("auggie", ("auggie",), ("@augmentcode/auggie",)),
    AgentSpec("continue", ("cn",), ("@continuedev/cli",)),
    AgentSpec("openhands", ("openhands",), ("openhands",)),
    AgentSpec("kimi", ("kimi",), ("kimi-cli",)),
    AgentSpec("vibe", ("vibe",), ("mistral-vibe",)),
    AgentSpec("cursor", ("cursor-agent", "agent")),
    AgentSpec("goose", ("goose",), (), (), ("labelled",), ("No provider configured",)),
)

BY_BINARY: dict[str, AgentSpec] = {binary: spec for spec in AGENTS for binary in spec.binaries}
BY_PACKAGE: dict[str, AgentSpec] = {package: spec for spec in AGENTS for package in spec.packages}
# Words that run the next word as the real command.
LAUNCHERS = frozenset({"npx", "bunx", "pnpx", "uvx", "pipx", "sudo", "exec", "command", "env", "time", "nohup"})

# Model ids are never checked against a fixed list (they change weekly): a strict shape instead.
# `provider/` prefix, a lower-case family, then at least one `-`/`.` separated part; e.g.
# claude-sonnet-4-5, gpt-5.5, gemini-2.5-pro, anthropic/claude-sonnet-4-20250514, o3-mini, sonnet[1m].
MODEL_ID_RE = re.compile(r"(?:[a-z0-9]+/)?[a-z][a-z0-9]*(?:[-.:][a-z0-9]+){1,8}(?:\[1m\])?")
MODEL_ALIASES = frozenset(
    {"sonnet", "opus", "haiku", "default", "opusplan", "sonnet[1m]", "opus[1m]", "auto", "pro", "flash",
     "flash-lite", "o1", "o3", "o4"}
)


def normalize_model(value: str) -> str | None:
    """``value`` lower-cased when it is a plausible model id or alias, else None (never stored)."""
    candidate = value.strip().lower()
    if len(candidate) <= 80 and (candidate in MODEL_ALIASES or MODEL_ID_RE.fullmatch(candidate)):
        return candidate
    return None
