"""Permission-matrix rows by topic; see ``tests/security/matrix.py``."""
