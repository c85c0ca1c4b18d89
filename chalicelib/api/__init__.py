"""HTTP front-door helpers: authentication, JSON parsing and the error → status table."""
