"""Sinks for humans and machines: they render what the core produced, never decode."""
