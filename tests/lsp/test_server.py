"""`ivr lsp` over real stdio JSON-RPC: pygls's client starts `python -m ivr_engine lsp` and asks.

The server's diagnostics must be exactly what `ivr validate` prints (the corpus of broken flows
is replayed through it), and its answers must come from the flow: node ids, fields of the node's
type (plugins included), variables, definitions, references, help and the outline.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.client import ROOT, FlowClient, Session
from tests.plugins import LOOKUP_NODE

INVALID = ROOT / "tests" / "flows" / "invalid"

FLOW = """\
start: welcome
vars:
  greeting: Hello
nodes:
  welcome:
    type: say
    text: "{{ greeting }}, thanks for calling"
    next: main_menu
  main_menu:
    type: menu
    prompt: "Press 1 for sales, 2 for an account"
    options:
      "1": sales
      "2": ask_account
    on_failure: goodbye
  ask_account:
    type: gather
    prompt: Enter your account number
    into: account
    next: route
  route:
    type: branch
    cases:
      - when: "account == '1'"
        next: sales
    default: goodbye
  sales:
    type: dial
    to: "+15550100"
    next: goodbye
  goodbye:
    type: hangup
    text: Goodbye.
"""
CALLEE = """\
start: hello
nodes:
  hello:
    type: say
    text: Hello from the callee
    next: back
  back:
    type: return
"""
NODES = ["welcome", "main_menu", "ask_account", "route", "sales", "goodbye"]
LINES = FLOW.splitlines()


def line_of(text: str, occurrence: int = 1) -> int:
    found = [i for i, line in enumerate(LINES) if text in line]
    return found[occurrence - 1]


_SESSIONS: dict[Path, Session] = {}


@pytest.fixture(scope="module", autouse=True)
def _servers() -> Iterator[None]:
    """One server per project folder for the whole module (each takes a second to start)."""
    yield
    while _SESSIONS:
        _SESSIONS.popitem()[1].close()


def run(scenario: Callable[[FlowClient], Awaitable[None]], cwd: Path) -> None:
    if cwd not in _SESSIONS:
        _SESSIONS[cwd] = Session(cwd)
    session = _SESSIONS[cwd]
    session.call(scenario(session.client))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one flow and a plugin node type (from ivr.toml), shared by the tests.

    Each test opens `flows/main.yaml` with the text it needs; the server holds the editor's text.
    """
    tmp_path = tmp_path_factory.mktemp("project")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "main.yaml").write_text(FLOW)
    (tmp_path / "lookup_nodes.py").write_text(LOOKUP_NODE.format(type_name="lookup"))
    (tmp_path / "ivr.toml").write_text('plugins = ["lookup_nodes"]\n')
    return tmp_path


def as_validate_prints(path: str, diagnostics: list[types.Diagnostic]) -> list[str]:
    lines = []
    for d in diagnostics:
        warning = "warning: " if d.severity == types.DiagnosticSeverity.Warning else ""
        lines.append(
            f"{path}:{d.range.start.line + 1}:{d.range.start.character + 1}: {warning}{d.message}"
        )
    return sorted(lines)


def test_diagnostics_are_what_ivr_validate_prints_for_every_broken_flow() -> None:
    # a flow test file in the corpus (for `ivr validate`) is a test file to the server: see below
    cases = [c for c in sorted(INVALID.glob("*.yaml")) if c.name != "a_flow_test_file.yaml"]

    async def scenario(client: FlowClient) -> None:
        for case in cases:
            shown = str(case.relative_to(ROOT))
            expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
            got = as_validate_prints(shown, list(await client.open(case)))
            assert got == sorted(expected), shown

    run(scenario, ROOT)


def test_the_shipped_flows_and_their_tests_have_no_diagnostics() -> None:
    async def scenario(client: FlowClient) -> None:
        for path in sorted((ROOT / "flows").glob("*.yaml")) + sorted(
            (ROOT / "flows" / "tests").glob("*.yaml")
        ):
            assert await client.open(path) == (), path

    run(scenario, ROOT)


def test_diagnostics_follow_the_text_as_it_is_typed(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        assert await client.open(flow, FLOW) == ()
        typo = FLOW.replace("next: main_menu", "next: main_men")
        (diagnostic,) = await client.change(flow, typo)
        assert diagnostic.message == (
            'node "welcome", field "next": goes to "main_men", which is not a node in this flow '
            '(did you mean "main_menu"?)'
        )
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.source == "ivr"
        row = line_of("next: main_menu")
        assert diagnostic.range == types.Range(
            types.Position(row, 10), types.Position(row, 18)
        )  # the whole of "main_men"
        broken = FLOW.replace('text: "{{ greeting }}, thanks', 'text: "{{ greeting }}, thanks"x')
        (diagnostic,) = await client.change(flow, broken)
        assert diagnostic.message.startswith("this is not valid YAML: ")
        assert await client.change(flow, FLOW) == ()

    run(scenario, project)


def test_a_burst_of_keystrokes_is_checked_once_when_typing_pauses(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        assert await client.open(flow, FLOW) == ()
        uri = flow.resolve().as_uri()
        before = len(client.published)
        typed = "main_men"
        for end in range(1, len(typed) + 1):  # typing "main_men" a key at a time
            client.send_change(flow, FLOW.replace("next: main_menu", f"next: {typed[:end]}"))
        (diagnostic,) = await client.wait_for(uri, client.version)
        assert 'goes to "main_men", which is not a node' in diagnostic.message
        checked = [version for at, version in client.published[before:] if at == uri]
        assert checked == [client.version]  # one check, of the last text, not one per key

    run(scenario, project)


def test_a_plugin_node_type_is_checked_by_its_own_schema(project: Path) -> None:
    flow = project / "flows" / "plugin.yaml"
    with_plugin = FLOW.replace(
        "    next: route\n", "    next: find\n  find:\n    type: lookup\n    next: route\n"
    )

    flow.write_text(with_plugin)
    validated = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "validate", "flows/plugin.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        timeout=60,
    )
    assert validated.stdout == (
        'flows/plugin.yaml:21:3: node "find": the required field "order" is missing: add it\n'
    )

    async def scenario(client: FlowClient) -> None:
        diagnostics = await client.open(flow, with_plugin)
        assert as_validate_prints("flows/plugin.yaml", list(diagnostics)) == [
            validated.stdout.strip()
        ]

    run(scenario, project)


def test_a_flow_test_file_gets_the_problems_ivr_test_reports(project: Path) -> None:
    tests = project / "flows" / "tests"
    tests.mkdir(exist_ok=True)
    path = tests / "main.yaml"
    text = "flow: main\ncases:\n  - name: one\n    steps:\n      - expect_sya: Hello\n"

    async def scenario(client: FlowClient) -> None:
        (diagnostic,) = await client.open(path, text)
        assert diagnostic.message == (
            'case "one", step 1: "expect_sya" is not a step (did you mean "expect_say"?); steps '
            "are press, say, silence, dial_result, record, hangup, hold, queue_result, agent, expect_say, expect_not_say, "
            "expect_play, expect_dial, expect_record, expect_node, expect_path, expect_vars, "
            "expect_messages or expect_end"
        )
        assert diagnostic.range.start == types.Position(4, 8)

    run(scenario, project)


def test_yaml_of_other_tools_is_left_alone(project: Path) -> None:
    workflow = project / "ci.yml"
    workflow.write_text("name: CI\non: [push]\njobs: {}\n")

    async def scenario(client: FlowClient) -> None:
        assert await client.open(workflow) == ()

    run(scenario, project)


async def complete(
    client: FlowClient, path: Path, text: str, line: int, character: int
) -> list[str]:
    await client.change(path, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(**client.where(path, line, character))
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    return [item.label for item in items]


def test_completion_offers_node_ids_in_every_target_field(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        for field, occurrence in [
            ("start: ", 1),
            ("next: ", 1),  # a say node's next
            ('"1": ', 1),  # a menu option
            ("on_failure: ", 1),
            ("        next: ", 1),  # a branch case, inside a list item
            ("default: ", 1),
        ]:
            row = line_of(field, occurrence)
            typed = LINES[row][: LINES[row].index(field) + len(field)]
            text = "\n".join([*LINES[:row], typed, *LINES[row + 1 :]]) + "\n"
            assert await complete(client, flow, text, row, len(typed)) == NODES, field

    run(scenario, project)


def test_completion_replaces_the_part_of_the_id_already_typed(project: Path) -> None:
    flow = project / "flows" / "main.yaml"
    row = line_of("    next: main_menu")
    text = FLOW.replace("next: main_menu", "next: main_m")

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, text)
        result = await client.text_document_completion_async(
            types.CompletionParams(**client.where(flow, row, 16))
        )
        item = next(i for i in result.items if i.label == "main_menu")
        assert item.text_edit == types.TextEdit(
            range=types.Range(types.Position(row, 10), types.Position(row, 16)),
            new_text="main_menu",
        )
        assert item.detail == "menu"

    run(scenario, project)


def test_completion_offers_the_fields_of_the_node_type_not_yet_written(project: Path) -> None:
    flow = project / "flows" / "main.yaml"
    row = line_of("    on_failure: goodbye")
    text = "\n".join([*LINES[:row], "    ", *LINES[row:]]) + "\n"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        labels = await complete(client, flow, text, row, 4)
        assert labels == [
            "input",
            "timeout",
            "attempts",
            "no_input",
            "no_match",
            "voice",
            "language",
        ]

    run(scenario, project)


def test_completion_offers_a_plugin_types_fields_and_every_node_type(project: Path) -> None:
    flow = project / "flows" / "main.yaml"
    added = FLOW + "  find:\n    type: lookup\n    \n"
    rows = len(added.splitlines())

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        assert await complete(client, flow, added, rows - 1, 4) == ["order", "next"]
        typing_type = FLOW + "  find:\n    type: lo\n"
        types_ = await complete(client, flow, typing_type, rows - 2, 12)
        assert "lookup" in types_ and "menu" in types_ and "say" in types_

    run(scenario, project)


def test_completion_inside_a_template_offers_variables_and_call_fields(project: Path) -> None:
    flow = project / "flows" / "main.yaml"
    row = line_of("text: Goodbye.")

    def typed(fragment: str) -> tuple[str, int]:
        line = f'    text: "Goodbye {fragment}'
        return "\n".join([*LINES[:row], line, *LINES[row + 1 :]]) + "\n", len(line)

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        text, end = typed("{{ ")  # the quote is not closed yet: the text does not parse
        labels = await complete(client, flow, text, row, end)
        assert {"call", "now", "language", "greeting", "account"} <= set(labels)
        text, end = typed("{{ call.fr")
        labels = await complete(client, flow, text, row, end)
        assert {"from", "from_city", "to", "caller_name"} <= set(labels)
        assert "greeting" not in labels

    run(scenario, project)


def test_go_to_definition_jumps_from_a_target_to_its_node(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        row = line_of('"2": ask_account')
        found = await client.text_document_definition_async(
            types.DefinitionParams(**client.where(flow, row, 14))
        )
        target = line_of("  ask_account:")
        assert found == [
            types.Location(
                uri=flow.resolve().as_uri(),
                range=types.Range(types.Position(target, 2), types.Position(target, 13)),
            )
        ]
        row = line_of("start: welcome")
        (start,) = await client.text_document_definition_async(
            types.DefinitionParams(**client.where(flow, row, 9))
        )
        assert start.range.start == types.Position(line_of("  welcome:"), 2)

    run(scenario, project)


def test_go_to_definition_opens_the_flow_a_subflow_node_runs(project: Path) -> None:
    (project / "flows" / "callee.yaml").write_text(CALLEE)
    flow = project / "flows" / "main.yaml"
    text = FLOW.replace(
        "    next: route\n",
        "    next: verify\n  verify:\n    type: subflow\n    flow: callee\n    next: route\n",
    )

    async def scenario(client: FlowClient) -> None:
        assert await client.open(flow, text) == ()
        row = text.splitlines().index("    flow: callee")
        (found,) = await client.text_document_definition_async(
            types.DefinitionParams(**client.where(flow, row, 12))
        )
        assert found.uri == (project / "flows" / "callee.yaml").resolve().as_uri()

    run(scenario, project)


def test_references_list_every_field_that_goes_to_a_node(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        row = line_of("  goodbye:")
        found = await client.text_document_references_async(
            types.ReferenceParams(
                **client.where(flow, row, 4),
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        assert sorted(loc.range.start.line for loc in found) == sorted(
            [
                row,
                line_of("on_failure: goodbye"),
                line_of("default: goodbye"),
                line_of("next: goodbye"),
            ]
        )
        found = await client.text_document_references_async(
            types.ReferenceParams(
                **client.where(flow, line_of('"1": sales'), 12),
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        assert [loc.range.start.line for loc in found] == [
            line_of('"1": sales'),
            line_of("        next: sales"),
        ]

    run(scenario, project)


def test_hover_shows_the_fields_documentation_from_the_schema(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        hover = await client.text_document_hover_async(
            types.HoverParams(**client.where(flow, line_of("on_failure: goodbye"), 6))
        )
        assert hover.contents.kind == types.MarkupKind.Markdown
        schema_help = (__import__("ivr_engine.schema", fromlist=["x"]).builtin_node_schema("menu"))[
            "properties"
        ]["on_failure"]
        assert hover.contents.value.startswith("**on_failure**")
        assert schema_help["description"] in hover.contents.value
        hover = await client.text_document_hover_async(
            types.HoverParams(**client.where(flow, line_of("type: gather"), 11))
        )
        assert "gather" in hover.contents.value

    run(scenario, project)


def test_document_symbols_are_the_nodes_with_their_types_and_lines(project: Path) -> None:
    flow = project / "flows" / "main.yaml"

    async def scenario(client: FlowClient) -> None:
        await client.open(flow, FLOW)
        found = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(flow.as_uri()))
        )
        assert [(s.name, s.detail) for s in found] == [
            ("welcome", "say"),
            ("main_menu", "menu"),
            ("ask_account", "gather"),
            ("route", "branch"),
            ("sales", "dial"),
            ("goodbye", "hangup"),
        ]
        menu = found[1]
        assert (menu.range.start.line, menu.range.end.line) == (
            line_of("  main_menu:"),
            line_of("on_failure: goodbye"),
        )

    run(scenario, project)


def test_positions_count_utf16_units_as_the_protocol_says(project: Path) -> None:
    flow = project / "flows" / "emoji.yaml"
    line = '  goodbye: {type: hangup, text: "\U0001f44b bye", next: nowhere}'
    text = f"start: goodbye\nnodes:\n{line}\n"
    # `ivr validate` says 3:42, counting the emoji as one character; UTF-16 counts it as two
    column = line.index("next")
    assert column == 41

    async def scenario(client: FlowClient) -> None:
        (diagnostic,) = await client.open(flow, text)
        assert diagnostic.message.startswith('node "goodbye": "next" is not a field of a hangup')
        assert diagnostic.range.start == types.Position(2, column + 1)
        assert diagnostic.range.end == types.Position(2, column + 1 + len("next"))

    run(scenario, project)


def test_ivr_lsp_says_how_to_install_pygls_when_it_is_missing(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pygls"] = None  # as if it were not installed
        from ivr_engine.cli import main
        sys.exit(main(["lsp"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        timeout=60,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: `ivr lsp` needs the pygls package, which is not installed: "
        "pip install 'ivr-engine[lsp]'  (or: pip install pygls)\n"
    )
