"""`make bench`: run every benchmark module in turn; each prints its figures and ratios."""
from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

# The figures are the output: keep the service's per-request log lines and EMF metrics out of it.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")

_SKIP = {"stats", "__main__"}

for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in _SKIP and not m.name.startswith("_")):
    importlib.import_module(f"bench.{module}").main()
    print()
