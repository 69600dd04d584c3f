"""Chinese text utilities: option numbers, inbound-text safety, PII redaction."""
