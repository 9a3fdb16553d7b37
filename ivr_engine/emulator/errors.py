"""The one error the emulator raises: something Twilio would choke on, worded for a person."""

from __future__ import annotations

from ..errors import IvrError


class EmulatorError(IvrError):
    """The call cannot go on: the server is unreachable, refused us, or answered badly."""
