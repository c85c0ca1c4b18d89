"""Real bash in tmux, driven by keystrokes, with the image's rootfs via AETHER_ROOT and the pinned agent CLIs from npm."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

IMAGE = ROOT / "infra" / "images" / "base"
ROOTFS = IMAGE / "rootfs"
TMUX_CONF = IMAGE / "tmux.conf"
AGENTS_LOCK = IMAGE / "agents" / "package-lock.json"
PROMPT = "aether-test$ "
SETTINGS_URL = "https://app.example.test/settings/connected-accounts"
MARK_RE = re.compile(rb"\x1b\]((?:133|6973);[^\x07\x1b]*)(?:\x07|\x1b\\)")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def install_agent_clis() -> Path:
    """`npm ci` the image's lockfile once into .aether/, keyed by the lockfile's hash; returns the bin directory."""
    digest = hashlib.sha256(AGENTS_LOCK.read_bytes()).hexdigest()[:12]
    prefix = ROOT / ".aether" / "agent-clis" / digest
    done = prefix / ".installed"
    if not done.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(IMAGE / "agents" / name, prefix / name)
        subprocess.run(
            ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=prefix, check=True, timeout=900,
        )
        done.touch()
    return prefix / "node_modules" / ".bin"


@pytest.fixture(scope="session")
def agent_bin() -> Path:
    return install_agent_clis()


def parse_marks(raw: bytes) -> list[str]:
    """The OSC 133 / 6973 payloads in order, whether or not they arrived DCS-wrapped."""
    unwrapped = raw.replace(b"\x1bPtmux;\x1b\x1b", b"\x1b")
    return [m.group(1).decode() for m in MARK_RE.finditer(unwrapped)]


@dataclass
class Terminal:
    """One terminal (a pane of a private tmux server) whose output bytes `script` records to `raw_path`.

    ``inner_tmux`` runs bash inside a second tmux with the image's tmux.conf, so `raw_path` holds what tmux sends
    to the outer terminal; otherwise bash runs directly on the terminal.
    """

    workdir: Path
    env: dict[str, str]
    inner_tmux: bool = False
    cwd: Path | None = None
    raw_path: Path = field(init=False)
    socket: Path = field(init=False)
    sockets: Path = field(init=False)

    def __post_init__(self) -> None:
        self.raw_path = self.workdir / "terminal.raw"
        # Unix socket paths are short (108 bytes), pytest's tmp paths are not.
        self.sockets = Path(tempfile.mkdtemp(prefix="aether-tmux-"))
        self.socket = self.sockets / "driver"
        rc = self.workdir / "bashrc"
        # What /etc/bash.bashrc does in the image, then a user's ~/.bashrc replacing PS1 afterwards.
        rc.write_text(f'. "$AETHER_ROOT/opt/aether/shell/aether.bash"\nPS1={shlex.quote(PROMPT)}\n')
        env_file = self.workdir / "terminal.env"  # outside HOME; keeps keys out of every argv
        env_file.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.env.items()))
        env_file.chmod(0o600)
        shell = f"bash --rcfile {shlex.quote(str(rc))} -i"
        if self.inner_tmux:
            shell = f"tmux -S {self.sockets / 'inner'} -f {TMUX_CONF} new-session {shlex.quote(shell)}"
        launcher = self.workdir / "launch.sh"
        launcher.write_text(
            f". {env_file}\ncd {shlex.quote(str(self.cwd or self.env['HOME']))}\n"
            f"exec script -q -f -c {shlex.quote(shell)} {self.raw_path}\n"
        )
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", "140", "-y", "45", f"env -i /bin/bash {launcher}")
        self.wait_for_prompts(1)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args], check=True, capture_output=True, text=True, timeout=30
        ).stdout

    def raw(self) -> bytes:
        return self.raw_path.read_bytes() if self.raw_path.exists() else b""

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def send(self, line: str) -> None:
        self._tmux("send-keys", "-l", line)
        self._tmux("send-keys", "Enter")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def run(self, line: str, timeout: float = 30) -> None:
        """Types a command line and waits for the next prompt."""
        seen = self.prompt_count()
        self.send(line)
        self.wait_for_prompts(seen + 1, timeout)

    def exit_shell(self, timeout: float = 30) -> bytes:
        """Types `exit`, waits until the terminal has closed and returns everything it received."""
        self.send("exit")
        alive = ["tmux", "-S", str(self.socket), "has-session"]
        self._wait(lambda: subprocess.run(alive, capture_output=True).returncode != 0, timeout, "the shell to exit")
        return self.raw()

    def prompt_count(self) -> int:
        return parse_marks(self.raw()).count("133;B")

    def wait_for_prompts(self, count: int, timeout: float = 30) -> None:
        self._wait(lambda: self.prompt_count() >= count, timeout, f"{count} prompts")

    def wait_for_screen(self, pattern: str, timeout: float = 90) -> str:
        regex = re.compile(pattern)
        self._wait(lambda: regex.search(self.screen()), timeout, pattern)
        return self.screen()

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, timeout=30)
        inner = self.sockets / "inner"
        if inner.exists():
            subprocess.run(["tmux", "-S", str(inner), "kill-server"], capture_output=True, timeout=30)
        # `script` leaves its shell running when tmux hangs up, and Codex detaches a daemon of its own:
        # end everything that was started inside this terminal (they all carry its HOME).
        for pid in processes_with_env("HOME", self.env["HOME"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.sockets, ignore_errors=True)


def processes_with_env(name: str, value: str) -> list[int]:
    """Every process (but this one) whose environment has ``name=value``."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone already, or a kernel thread
            continue
    return found


def terminal_env(home: Path, agent_bin: Path | None = None, **keys: str) -> dict[str, str]:
    path = f"{agent_bin}:{SYSTEM_PATH}" if agent_bin else SYSTEM_PATH
    return {
        "HOME": str(home),
        "PATH": path,
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "AETHER_ROOT": str(ROOTFS),
        "AETHER_WORKSPACE": str(home / "workspace"),
        "AETHER_SETTINGS_URL": SETTINGS_URL,
        **keys,
    }


@pytest.fixture
def make_home(tmp_path: Path):
    def make(name: str = "home") -> Path:
        home = tmp_path / name
        (home / "workspace").mkdir(parents=True)
        return home

    return make


@pytest.fixture
def open_terminal(tmp_path: Path) -> Iterator:
    opened: list[Terminal] = []

    def open_(env: dict[str, str], *, inner_tmux: bool = False, cwd: Path | None = None) -> Terminal:
        workdir = tmp_path / f"terminal-{len(opened)}"
        workdir.mkdir()
        terminal = Terminal(workdir, env, inner_tmux=inner_tmux, cwd=cwd)
        opened.append(terminal)
        return terminal

    yield open_
    for terminal in opened:
        terminal.close()


def run_setup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Runs the image's aether-agent-setup with exactly ``env``."""
    return subprocess.run(
        [str(ROOTFS / "opt" / "aether" / "bin" / "aether-agent-setup"), *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def files_containing(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes():
            found.append(path)
    return found

