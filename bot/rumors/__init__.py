"""Rumour reports, claims, verdicts and debunks."""

# The audit log's sentences for claim actions (bot.accounts.audit imports no service).
from bot.rumors import audit_text as _audit_text  # noqa: F401
