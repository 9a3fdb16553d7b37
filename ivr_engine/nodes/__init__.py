"""The built-in node types. They use only the public `Node` API, exactly as plugins do."""

from __future__ import annotations

from ..node import Node
from .agent import AgentNode
from .branch import BranchNode
from .dequeue import DequeueNode
from .dial import DialNode
from .enqueue import EnqueueNode
from .gather import GatherNode
from .hangup import HangupNode
from .hours import HoursNode
from .http import HttpNode
from .menu import MenuNode
from .message import MessageNode
from .pause import PauseNode
from .play import PlayNode
from .record import RecordNode
from .return_ import ReturnNode
from .say import SayNode
from .set import SetNode
from .subflow import SubflowNode
from .verify import VerifyNode

BUILTIN_NODES: tuple[type[Node], ...] = (
    AgentNode,
    BranchNode,
    DequeueNode,
    DialNode,
    EnqueueNode,
    GatherNode,
    HangupNode,
    HoursNode,
    HttpNode,
    MenuNode,
    MessageNode,
    PauseNode,
    PlayNode,
    RecordNode,
    ReturnNode,
    SayNode,
    SetNode,
    SubflowNode,
    VerifyNode,
)

__all__ = [cls.__name__ for cls in BUILTIN_NODES] + ["BUILTIN_NODES"]
