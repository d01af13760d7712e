"""Bulk runs: one flow × many input rows (`plait batch`)."""
