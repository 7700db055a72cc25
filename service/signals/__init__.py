"""Signal types: each kind of evidence (the picture's pHash views, an audio fingerprint ...) as one class.

Only the interface is imported here; ``service.signals.registry`` loads the types themselves.
"""

from service.signals.base import MEDIA, Medium, SignalIndex, SignalMatch, SignalRecord, SignalType, Summary

__all__ = ["MEDIA", "Medium", "SignalIndex", "SignalMatch", "SignalRecord", "SignalType", "Summary"]
