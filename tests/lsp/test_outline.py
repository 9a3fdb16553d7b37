"""`outline` reads the cursor's place from indentation, in text that may not parse yet."""

from __future__ import annotations

from ivr_engine.lsp.outline import entries, place, template_before, token_at, value_text

TEXT = """\
start: welcome
nodes:
  route:
    type: branch
    cases:
      - when: "x"
        next: sa
    ty
  menu:
    options:
      "1": sales
      2:
"""
LINES = TEXT.splitlines(keepends=True)


def test_a_key_inside_a_list_item_has_the_item_as_a_star_in_its_path() -> None:
    found = place(LINES, 6, 16)
    assert (found.parents, found.key, found.word) == (
        ("nodes", "route", "cases", "*"),
        "next",
        "sa",
    )


def test_a_half_typed_key_has_no_key_yet_and_the_map_it_is_in_as_parents() -> None:
    found = place(LINES, 7, 6)
    assert (found.parents, found.key, found.word) == (("nodes", "route"), None, "ty")


def test_quoted_and_numeric_keys_are_keys_as_written() -> None:
    assert place(LINES, 10, 14).path == ("nodes", "menu", "options", "1")
    assert place(LINES, 11, 8).path == ("nodes", "menu", "options", "2")


def test_on_a_blank_line_the_cursors_column_is_the_indentation() -> None:
    lines = ["nodes:\n", "  a:\n", "    type: say\n", "    \n"]
    assert place(lines, 3, 4).parents == ("nodes", "a")
    assert place(lines, 3, 2).parents == ("nodes",)
    assert place(lines, 3, 0).parents == ()


def test_entries_give_every_key_with_the_keys_above_it_and_its_value() -> None:
    found = {(parents, line.key): value_text(LINES, line) for parents, line in entries(LINES)}
    assert found[((), "start")] == "welcome"
    assert found[(("nodes", "route"), "type")] == "branch"
    assert found[(("nodes", "menu", "options"), "1")] == "sales"


def test_a_template_is_open_until_its_closing_braces() -> None:
    assert template_before('text: "Hi {{ call.fr') == " call.fr"
    assert template_before('text: "Hi {{ name }} and ') is None
    assert template_before("text: Hi") is None


def test_a_token_is_a_word_or_a_whole_quoted_text() -> None:
    assert token_at('    next: "main menu"  # x', 10) == (10, 21)
    assert token_at("    next: main_menu  # x", 10) == (10, 19)
    assert token_at("    next:", 9) == (9, 9)
