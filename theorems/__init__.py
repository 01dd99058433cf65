"""theorems: each claim of MODEL.md section 5 as a checkable property (run with ``pytest theorems``)."""
