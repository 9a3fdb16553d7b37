"""Diagrams of a flow, read back structurally: Mermaid and DOT carry every node and transition."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ivr_engine.model import Flow
from ivr_engine.tooling.coverage import FlowCoverage, edges
from ivr_engine.tooling.graph import build, dot, first_words, mermaid
from ivr_engine.tooling.script import Call, CallLog, DialResult, Press

# ---- tiny readers for the subset of Mermaid and DOT the engine writes ------------------

MERMAID_NODE = re.compile(r'^    (\w+)(\(\(|\(\[|\{\{|\{|\[)"(.*)"(\)\)|\]\)|\}\}|\}|\])$')
MERMAID_EDGE = re.compile(r'^    (\w+) (-->|-\.->)(?:\|"(.*)"\|)? (\w+)$')
SHAPES = {"((": "circle", "([": "stadium", "{{": "hexagon", "{": "rhombus", "[": "box"}


def read_mermaid(text: str) -> dict:
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes, links, classes, link_styles = {}, [], {}, []
    for line in lines[1:]:
        if node := MERMAID_NODE.match(line):
            nodes[node[1]] = (SHAPES[node[2]], node[3])
        elif edge := MERMAID_EDGE.match(line):
            links.append((edge[1], edge[4], edge[3] or "", edge[2] == "-.->"))
        elif line.startswith("    class "):
            members, name = line.split()[1:]
            classes[name] = set(members.split(","))
        elif line.startswith("    linkStyle "):
            link_styles += [int(i) for i in line.split()[1].split(",")]
        else:
            assert line.startswith("    classDef "), f"unexpected Mermaid line: {line!r}"
    return {"nodes": nodes, "links": links, "classes": classes, "link_styles": link_styles}


DOT_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(->)|([\[\];=,{}])|([\w.#]+)|(\S)')


def read_dot(text: str) -> dict:
    """Statements of a DOT graph: nodes and edges with their attributes (quotes undone)."""
    tokens = []
    for match in DOT_TOKEN.finditer(text):
        quoted, arrow, punct, word, other = match.groups()
        assert other is None, f"unexpected DOT text: {other!r}"
        tokens.append(
            ("id", quoted.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
            if quoted is not None
            else ("op", arrow or punct)
            if (arrow or punct)
            else ("id", word)
        )
    assert tokens[:3] == [("id", "digraph"), ("id", tokens[1][1]), ("op", "{")] and tokens[-1] == (
        "op",
        "}",
    )
    nodes, links, i = {}, [], 3
    while i < len(tokens) - 1:
        statement = []
        while tokens[i] != ("op", ";"):
            statement.append(tokens[i])
            i += 1
        i += 1
        attrs = {}
        if ("op", "[") in statement:
            start = statement.index(("op", "["))
            body = [t for t in statement[start + 1 : -1] if t != ("op", ",")]
            attrs = {body[k][1]: body[k + 2][1] for k in range(0, len(body), 3)}
            statement = statement[:start]
        if len(statement) == 3 and statement[1] == ("op", "->"):
            links.append((statement[0][1], statement[2][1], attrs))
        elif statement[0][1] in ("node", "edge") or "=" in [t[1] for t in statement]:
            continue  # defaults and graph attributes
        else:
            nodes[statement[0][1]] = attrs
    return {"nodes": nodes, "links": links}


# ---- the tests ---------------------------------------------------------------------------


def test_mermaid_has_every_node_with_its_type_words_and_shape(every_node: Flow) -> None:
    found = read_mermaid(mermaid(build(every_node)))
    assert found["nodes"] == {
        "ivr_start": ("circle", "call starts"),
        "ivr_end": ("circle", "call ends"),
        "ivr_error": ("stadium", "on error"),
        "n_intro": ("box", "intro<br/>play: https://example.com/jingle.mp3"),
        "n_breath": ("box", "breath<br/>pause"),
        "n_open_check": ("rhombus", "open_check<br/>hours"),
        "n_closed_message": (
            "box",
            "closed_message<br/>say: We are #quot;closed#quot; #lt;now#gt; #amp; back …",
        ),
        "n_main_menu": ("hexagon", "main_menu<br/>menu: Say sales or press 1; press …"),
        "n_account": ("hexagon", "account<br/>gather: Enter your 4-digit account number."),
        "n_route": ("rhombus", "route<br/>branch"),
        "n_vip": ("box", "vip<br/>set"),
        "n_notify": ("box", "notify<br/>message: Thanks for calling, {{ tier }} …"),
        "n_sales": ("hexagon", "sales<br/>dial: +15550100"),
        "n_voicemail": ("hexagon", "voicemail<br/>record: Leave a message."),
        "n_sorry": ("box", "sorry<br/>say: Sorry about that."),
        "n_bye": ("stadium", "bye<br/>hangup: Goodbye."),
        "n_orphan": ("box", "orphan<br/>say: Nobody comes here."),
    }


def test_mermaid_has_every_transition_labelled_and_marks_start_ends_errors_and_orphans(
    every_node: Flow,
) -> None:
    found = read_mermaid(mermaid(build(every_node)))
    expected = [("ivr_start", "n_intro", "", False), ("ivr_error", "n_sorry", "", True)] + [
        (f"n_{e.node}", f"n_{e.target}" if e.target else "ivr_end", e.via, False)
        for e in edges(every_node)
    ]
    assert found["links"] == expected
    assert ("n_route", "n_vip", "when account_number == '9999'", False) in found["links"]
    assert ("n_main_menu", "ivr_end", "failure", False) in found["links"]
    assert found["classes"] == {
        "start": {"n_intro"},
        "terminal": {"n_bye"},
        "unreachable": {"n_orphan"},
        "error": {"n_sorry"},
        "pseudo": {"ivr_start", "ivr_end", "ivr_error"},
    }
    assert found["link_styles"] == []


def covered_a_little(flow: Flow) -> FlowCoverage:
    import asyncio
    from datetime import UTC, datetime

    call = Call(flow, at=datetime(2026, 3, 2, 17, tzinfo=UTC))

    async def go() -> None:
        await call.start()
        await call.act(Press("1"))
        await call.act(DialResult("completed"))

    asyncio.run(go())
    coverage = FlowCoverage(flow)
    coverage.add(CallLog.of(call))
    return coverage


def test_mermaid_with_coverage_colours_exactly_what_tests_do_not_reach(every_node: Flow) -> None:
    coverage = covered_a_little(every_node)
    found = read_mermaid(mermaid(build(every_node, coverage)))
    assert found["classes"]["uncovered"] == {f"n_{n}" for n in coverage.missed_nodes}
    styled = {found["links"][i][:3] for i in found["link_styles"]}
    assert styled == {
        (f"n_{e.node}", f"n_{e.target}" if e.target else "ivr_end", e.via)
        for e in coverage.missed_edges
    }


def test_dot_has_the_same_nodes_and_transitions_with_marks(every_node: Flow) -> None:
    found = read_dot(dot(build(every_node)))
    assert set(found["nodes"]) == {*every_node.nodes, "ivr:start", "ivr:end", "ivr:error"}
    assert found["nodes"]["closed_message"]["label"] == (
        'closed_message\nsay: We are "closed" <now> & back …'
    )
    assert found["nodes"]["intro"]["penwidth"] == "3"
    assert found["nodes"]["bye"]["peripheries"] == "2"
    assert "dashed" in found["nodes"]["orphan"]["style"].split(",")
    assert found["nodes"]["sorry"]["fillcolor"] == "#ffe3e3"
    assert found["nodes"]["main_menu"]["shape"] == "hexagon"
    assert found["nodes"]["route"]["shape"] == "diamond"
    assert [(a, b, attrs.get("label", "")) for a, b, attrs in found["links"]] == [
        ("ivr:start", "intro", ""),
        ("ivr:error", "sorry", ""),
        *[(e.node, e.target or "ivr:end", e.via) for e in edges(every_node)],
    ]


def test_dot_with_coverage_colours_missed_nodes_and_edges(every_node: Flow) -> None:
    coverage = covered_a_little(every_node)
    found = read_dot(dot(build(every_node, coverage)))
    coloured = {n for n, attrs in found["nodes"].items() if attrs.get("color") == "#e8590c"}
    assert coloured == set(coverage.missed_nodes)
    red = {
        (a, b, attrs["label"]) for a, b, attrs in found["links"] if attrs.get("color") == "#e8590c"
    }
    assert red == {(e.node, e.target or "ivr:end", e.via) for e in coverage.missed_edges}


def test_a_node_shows_the_first_words_it_says() -> None:
    assert (
        first_words({"prompt": "one two three four five six seven"})
        == "one two three four five six …"
    )
    assert first_words({"text": {"en-US": "Hello there", "es-MX": "Hola"}}) == "Hello there"
    assert first_words({"to": ["+15550111", "+15550112"]}) == "+15550111, +15550112"
    assert first_words({"cases": []}) == ""


def ivr(*args: str, cwd: Path, env_path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    if env_path is not None:
        env["PATH"] = env_path
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_svg_without_graphviz_says_how_to_get_it(tmp_path: Path, root: Path) -> None:
    done = ivr("graph", "flows/acme.yaml", "--format", "svg", cwd=root, env_path=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (
        "error: drawing SVG needs Graphviz's `dot` program, which is not installed: install Graphviz "
        "(e.g. `apt-get install graphviz` or `brew install graphviz`), or use --format mermaid or "
        "--format dot\n"
    )
    assert done.stdout == ""


def test_svg_is_drawn_by_dot_from_the_dot_text(tmp_path: Path, root: Path) -> None:
    """A stand-in `dot` records what it is given; the SVG it prints is what lands in the file."""
    received = tmp_path / "received.dot"
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\ncat > {received}\necho "<svg>drawn</svg>"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "acme.svg"
    done = ivr("graph", "acme", "-o", str(out), cwd=root, env_path=f"{fake.parent}:/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "<svg>drawn</svg>\n"
    assert received.read_text() == ivr("graph", "acme", "--format", "dot", cwd=root).stdout


def _fake_dot(tmp_path: Path) -> Path:
    """A stand-in `dot` that writes the format it was asked for (`-Tpng` -> `PNG:` + DOT)."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s:" "${1#-T}"\ncat\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake.parent


def test_png_is_drawn_by_dot_as_an_image_never_mermaid_text(tmp_path: Path, root: Path) -> None:
    out = tmp_path / "acme.png"
    done = ivr("graph", "acme", "-o", str(out), cwd=root, env_path=f"{_fake_dot(tmp_path)}:/bin")
    assert done.returncode == 0, done.stderr
    dot_text = ivr("graph", "acme", "--format", "dot", cwd=root).stdout
    assert out.read_bytes() == b"png:" + dot_text.encode()


@pytest.mark.parametrize(
    ("name", "fmt"), [("acme.dot", "digraph"), ("acme.gv", "digraph"), ("acme.mmd", "flowchart")]
)
def test_text_formats_follow_the_extension_of_the_output_file(
    tmp_path: Path, root: Path, name: str, fmt: str
) -> None:
    out = tmp_path / name
    assert ivr("graph", "acme", "-o", str(out), cwd=root).returncode == 0
    assert out.read_text().startswith(fmt)


def test_png_without_graphviz_is_refused_and_writes_nothing(tmp_path: Path, root: Path) -> None:
    out = tmp_path / "acme.png"
    done = ivr("graph", "acme", "-o", str(out), cwd=root, env_path=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: drawing PNG needs Graphviz's `dot` program")
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-o", "acme.pdf"],
            'error: -o acme.pdf: cannot tell the format of ".pdf" files: name it .svg, .png, '
            ".dot or .mmd, or give --format\n",
        ),
        (
            ["-o", "acme"],
            "error: -o acme: cannot tell the format of a file without an extension: name it "
            ".svg, .png, .dot or .mmd, or give --format\n",
        ),
        (
            ["-o", "acme.png", "--format", "mermaid"],
            "error: -o acme.png: a .png file holds png, but --format mermaid was asked for: "
            "change the extension or drop --format\n",
        ),
        (["--format", "png"], "error: a PNG image is not for the terminal: give -o FILE.png\n"),
    ],
)
def test_an_output_it_cannot_write_is_refused_with_the_reason(
    tmp_path: Path, root: Path, args: list[str], message: str
) -> None:
    done = ivr("graph", "acme", *args, cwd=root, env_path=f"{_fake_dot(tmp_path)}:/bin")
    assert (done.returncode, done.stderr, done.stdout) == (2, message, "")
    assert not (root / "acme.png").exists() and not (root / "acme.pdf").exists()


def test_graph_with_coverage_runs_the_flows_tests(root: Path) -> None:
    done = ivr("graph", "acme", "--coverage", cwd=root)
    assert done.returncode == 0
    assert (
        done.stderr
        == "coverage of acme: 10 test case(s) in 1 file(s) take 100% of its transitions\n"
    )
    assert "uncovered" not in done.stdout.split("classDef uncovered")[1]
    assert "linkStyle" not in done.stdout


def test_the_readme_shows_the_current_diagram_of_the_acme_flow(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    drawn = ivr("graph", "flows/acme.yaml", cwd=root).stdout
    assert f"```mermaid\n{drawn}```" in readme
