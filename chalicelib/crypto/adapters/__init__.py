"""KeyWrapper adapters: AWS KMS and the local keyring."""
