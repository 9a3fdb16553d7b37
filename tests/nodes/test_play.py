"""`play` node: play audio from a URL (which may be a template), then continue."""

from ivr_engine.nodes import PlayNode
from tests.support import Call, load_valid, twiml


def test_a_minimal_play_plays_the_file_once_and_hangs_up() -> None:
    flow = load_valid("play_minimal")
    assert isinstance(flow.nodes["music"], PlayNode)
    result = Call(flow).start()
    assert result.twiml == twiml("<Play>https://example.com/hold-music.mp3</Play><Hangup />")


def test_a_full_play_renders_its_url_from_variables_and_loops() -> None:
    flow = load_valid("play_full")
    url = flow.text("music", ("url",))
    assert url is not None and url.variables == {"season"}
    result = Call(flow).start()
    assert result.twiml == twiml(
        '<Play loop="3">https://cdn.example.com/winter/greeting.mp3</Play>'
        '<Say language="en-US">Goodbye.</Say><Hangup />'
    )
    assert result.session.path == ["music", "goodbye"]
