"""Forwarded-message fraud checks."""
