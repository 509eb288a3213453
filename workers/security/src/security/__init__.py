"""The security Worker; its routes are in app.py, its bindings in ../../wrangler.toml."""
