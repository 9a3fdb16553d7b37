"""SMS and WhatsApp follow-ups: the durable outbox, its worker, consent and status tracking.

This package sits beside the runtime and the store: `message` nodes only describe messages
(`runtime.effects.OutboundMessage`); the outbox stores them with the call step, the worker
sends them through Twilio's client, and the web layer feeds back inbound messages and status
callbacks. Nothing here runs inside a call's response.
"""

from .consent import ConsentStore
from .inbound import InboundHandler
from .outbox import OutboxStore
from .sender import TwilioSender
from .settings import MessagingSettings
from .status import StatusStore
from .window import WindowStore
from .worker import OutboxWorker

__all__ = [
    "ConsentStore",
    "InboundHandler",
    "MessagingSettings",
    "OutboxStore",
    "OutboxWorker",
    "StatusStore",
    "TwilioSender",
    "WindowStore",
]
