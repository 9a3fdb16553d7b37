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
    if isinstance(verb, str):
        return verb
    attrs = (
        tuple(sorted((name, _attr(value)) for name, value in verb.attrs.items()))
        if verb.attrs
        else ()
    )
    value = verb.value if not isinstance(verb.value, dict) else repr(sorted(verb.value.items()))
    return (verb.name, attrs, value, tuple(_key(child) for child in verb.verbs))


def render(response: TwiML) -> str:
    key = _key(response)
    text = _cache.get(key)
    if text is None:
        text = response.to_xml()
        _cache[key] = text
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return text
