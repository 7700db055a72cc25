"""The registered signal types, and the ones ``Settings.signals`` turns on.

Part of signals. An explicit list, no discovery: adding a signal type is one line in
``SIGNAL_TYPES`` (``"module:Class"``). A type whose module cannot be imported (an optional library
missing, e.g. Chromaprint) is skipped with a warning, as yt-dlp skips an extractor; names are checked
unique when the list is loaded, so two types never share stored records.

    types = signal_types(settings)      # in registry order, video first
    get_signal_type("video-phash", settings)
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from typing import Any

from service.errors import BadInput
from service.settings import Settings
from service.signals.base import SignalType

__all__ = ["SIGNAL_TYPES", "AnySignalType", "available_signals", "get_signal_type", "signal_types"]

log = logging.getLogger(__name__)

# In the order matches are reported: a Match's own fields (score, segments, transform) come from the first
# type in this list that matched it.
SIGNAL_TYPES: tuple[str, ...] = (
    "service.signals.video:VideoPHashSignal",
    "service.signals.audio:ChromaprintSignal",
)

AnySignalType = SignalType[Any, Any, Any]


@cache
def _classes() -> dict[str, type[AnySignalType]]:
    found: dict[str, type[AnySignalType]] = {}
    for spec in SIGNAL_TYPES:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError as exc:
            log.warning("signal type %s is not available: %s", spec, exc)
            continue
        if not (isinstance(cls, type) and issubclass(cls, SignalType)):
            raise TypeError(f"{spec} is not a SignalType")
        for constant in ("name", "medium", "version"):
            if not hasattr(cls, constant):
                raise TypeError(f"signal type {spec} does not set {constant}")
        if cls.name in found:
            raise ValueError(f"signal name {cls.name!r} registered twice ({spec})")
        found[cls.name] = cls
    return found


def available_signals() -> list[str]:
    """Names of the registered types whose modules import, in registry order."""
    return list(_classes())


def get_signal_type(name: str, settings: Settings) -> AnySignalType:
    try:
        return _classes()[name](settings)
    except KeyError:
        raise BadInput(f"unknown signal {name!r}; available: {', '.join(available_signals())}") from None


def signal_types(settings: Settings) -> tuple[AnySignalType, ...]:
    """The types ``settings.signals`` names (None: every available one), in registry order."""
    wanted = available_signals() if settings.signals is None else list(dict.fromkeys(settings.signals))
    for name in wanted:
        if name not in _classes():
            raise BadInput(f"unknown signal {name!r}; available: {', '.join(available_signals())}")
    if not wanted:
        raise BadInput("no signal turned on: FIRSTSEEN_SIGNALS names none")
    return tuple(cls(settings) for name, cls in _classes().items() if name in wanted)
