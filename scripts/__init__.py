"""Developer commands behind the Makefile (never packaged into Lambda)."""
