"""The LLM agent's Jinja2 prompt templates, shipped as package data (see README.md here)."""
