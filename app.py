"""aether-agents front door: routes and event handlers only; each parses, makes one call, shapes the reply."""
from chalice import Chalice

from chalicelib import wiring

# configure_logs=False: Powertools' Logger owns logging (see docs/architecture.md).
app = Chalice(app_name="aether-agents", configure_logs=False)
