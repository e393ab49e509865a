"""Command-line entry point for Knotwork."""
