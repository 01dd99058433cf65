"""The claims catalogue, one module per claim family (assembled by theorems/registry.py)."""
