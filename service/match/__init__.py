"""Matching: index hits → time-consistent segments (align), every signal type's matches per item (matcher),
and matches + claims → a verdict (verdict)."""

__all__: list[str] = []  # nothing here: import the modules
