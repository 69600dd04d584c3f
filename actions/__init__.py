"""Custom actions: one module per user goal, thin wrappers around ``bot.*`` services."""
