"""Connecting accounts over OAuth 2.0: the state store, PKCE, and one flow per platform."""
