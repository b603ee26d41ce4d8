"""Compliance: geo-fencing and KYC gates (issue 6)."""
