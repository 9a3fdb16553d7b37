"""TwiML documents to text, built with the twilio SDK and serialised once per distinct document.

Serialising through ElementTree is the largest CPU cost of a step. Calls in the same flow
produce the same documents over and over (same prompts, same step numbers in the action
URLs), so the text is cached, keyed by the verb tree itself: a document is serialised by the
SDK the first time it is seen and reused after that.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from twilio.twiml import TwiML

CACHE_SIZE = 4096
_cache: OrderedDict[Any, str] = OrderedDict()


def _attr(value: Any) -> str:
    # Exactly as TwiML.xml() writes it, so equal keys always mean equal documents.
    return str(value).lower() if isinstance(value, bool) else str(value)


def _key(verb: TwiML | str) -> Any:
    """The document as nested tuples; equal keys mean equal text.

    Attributes stay in the order the node gave them: the same node code gives the same order,
    and a different order only costs a cache entry. (Sorting them was a fifth of a render.)
    """
    if verb.__class__ is str:
        return verb
    attrs = verb.attrs
    value = verb.value
    return (
        verb.name,
        tuple([(name, v if v.__class__ is str else _attr(v)) for name, v in attrs.items()])
        if attrs
        else (),
        repr(sorted(value.items())) if isinstance(value, dict) else value,
        tuple([_key(child) for child in verb.verbs]) if verb.verbs else (),
    )


def render(response: TwiML) -> str:
    key = _key(response)
    text = _cache.get(key)
    if text is None:
        text = response.to_xml()
        _cache[key] = text
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return text


def told(response: TwiML) -> list[str]:
    """What the caller hears from a document, in order: each <Say>'s text, each <Play>'s URL.

    For the call history; walks the verb tree the node code built (no XML is parsed).
    """
    found: list[str] = []
    for verb in response.verbs:
        if verb.__class__ is str:
            continue
        if verb.name == "Say" and verb.value:
            found.append(str(verb.value))
        elif verb.name == "Play" and verb.value:
            found.append(f"[play] {verb.value}")
        elif verb.verbs:
            found += told(verb)
    return found
