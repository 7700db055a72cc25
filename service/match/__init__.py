"""Matching: index hits → time-consistent segments (align), and matches + claims → a verdict (verdict)."""

__all__: list[str] = []  # nothing here: import the modules
