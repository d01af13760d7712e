"""Plait: a self-hosted visual canvas for AI image flows on Gemini image models."""

__version__ = "0.1.0"
