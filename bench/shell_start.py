"""Base image: interactive shell start (integration + agent setup) to first prompt, and agent CLI start times."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.stats import percentiles, report, time_calls
from tests.conftest import make_canary_key
from tests.integration.image.conftest import install_agent_clis, terminal_env

PROMPT_END = b"\x1b]133;B\x07"
PLAIN_PROMPT = b"bench$ "
REPEAT = 30


def time_to_prompt(argv: list[str], env: dict[str, str], ready: bytes, cwd: Path) -> float:
    """Milliseconds from spawning ``argv`` on a fresh pty until ``ready`` appears in its output."""
    master, slave = os.openpty()
    start = time.perf_counter()
    shell = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                             start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while ready not in seen:
            if not select.select([master], [], [], 10)[0]:
                raise TimeoutError(f"no prompt from {argv}: {seen[-200:]!r}")
            seen += os.read(master, 65536)
        return (time.perf_counter() - start) * 1000
    finally:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
        os.close(master)


def main() -> None:
    agent_bin = install_agent_clis()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / "workspace").mkdir(parents=True)
        rc = Path(tmp) / "bashrc"
        rc.write_text('. "$AETHER_ROOT/opt/aether/shell/aether.bash"\n')  # what /etc/bash.bashrc adds
        plain_rc = Path(tmp) / "plain-bashrc"
        plain_rc.write_text(f"PS1='{PLAIN_PROMPT.decode()}'\n")
        keys = {name: make_canary_key(provider) for name, provider in
                (("ANTHROPIC_API_KEY", "anthropic"), ("OPENAI_API_KEY", "openai"), ("GEMINI_API_KEY", "gemini"))}
        env = terminal_env(home, agent_bin, **keys)
        shell = ["bash", "--rcfile", str(rc), "-i"]

        print("base image: interactive bash start to first prompt (goal: well under 300 ms)")
        baseline = [time_to_prompt(["bash", "--rcfile", str(plain_rc), "-i"], env, PLAIN_PROMPT, home)
                    for _ in range(REPEAT)]
        first = time_to_prompt(shell, env, PROMPT_END, home)  # applies the three keys (Codex login included)
        warm = [time_to_prompt(shell, env, PROMPT_END, home) for _ in range(REPEAT)]
        report("bash, plain rc (baseline)", baseline)
        print(f"  {'first shell of a VM (keys applied)':<42} {first:8.2f} ms")
        report("every later shell (keys unchanged)", warm)
        print(f"  later shell / baseline (p50)               {percentiles(warm)[0] / percentiles(baseline)[0]:.2f}x")

        print("agent CLI start (`--version` wall time; the part of time to first agent command the image controls)")
        for agent in ("claude", "codex", "gemini"):
            binary = str(agent_bin / agent)
            report(f"{agent} --version", time_calls(
                lambda binary=binary: subprocess.run([binary, "--version"], env=env, capture_output=True,
                                                     check=True, timeout=60), 5))
