"""Secrets handling: opaque tokens stored as hashes, passwords, encrypted values, signatures."""
