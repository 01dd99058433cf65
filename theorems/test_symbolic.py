"""S1-S5: the symbolic lemmas (theorems/catalogue/symbolic.py), checked by theorems/checks/symbolic.py."""
from .protocol import bind

bind(globals(), "S1", "S2", "S3", "S4", "S5")
