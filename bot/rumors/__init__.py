"""Rumour reports and claim matching."""
