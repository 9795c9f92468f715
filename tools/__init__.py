"""Set-up helpers that `make` runs (standard library only)."""
