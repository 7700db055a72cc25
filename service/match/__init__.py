"""Matching: index hits → time-consistent segments (align), and matches + claims → a verdict (verdict)."""
