"""Payments: chain adapter, escrow purchases and settlement (issues 3 and 5)."""
