"""Websocket consumers of the workshops app, one module per live screen."""
