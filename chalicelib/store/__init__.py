"""Database plumbing shared by the adapters (connections, migrations); no domain code."""
