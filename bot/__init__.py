"""Vigie: a ChatOps bot for conversational observability."""

__version__ = "0.1.0"
