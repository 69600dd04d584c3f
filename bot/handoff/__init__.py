"""Hotlines and requests for a person."""
