"""kyc models."""
