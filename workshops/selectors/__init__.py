"""Reads of the workshops app, one module per sub-domain (capture, delphi, fops, tags)."""
