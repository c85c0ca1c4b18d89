"""KeyRepository adapters: PostgreSQL (system of record) and DynamoDB."""
