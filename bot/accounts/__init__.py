"""Console accounts: users, sessions, API tokens, roles and permissions, the audit log."""
