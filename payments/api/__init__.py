"""Payments REST API (wallets.py: link, list, unlink and choose the primary wallet)."""
