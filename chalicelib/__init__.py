"""aether-agents service code: one subpackage per capability; app.py is the front door."""
