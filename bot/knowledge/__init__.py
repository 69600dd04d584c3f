"""Knowledge base: entry schema, loading from ``knowledge/``, search, reply format."""
