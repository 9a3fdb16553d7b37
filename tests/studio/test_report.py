"""The report names every widget: mapped, unmapped (and what stands in), TODOs, problems."""

from __future__ import annotations

from .conftest import imported


def test_the_report_counts_widgets_by_what_they_became() -> None:
    text = imported("menu").report.render()
    assert "Imported menu.json: 5 widget(s) mapped" in text
    assert "  1 x gather-input-on-call -> menu" in text
    assert "  1 x say-play -> menu" in text  # the "invalid choice" prompt, folded in
    assert "  1 x split-based-on -> menu" in text
    assert "ivr validate: no problems" in text


def test_a_gather_and_split_over_its_digits_become_one_menu_and_the_report_says_so() -> None:
    report = imported("menu").report
    assert [str(e) for e in report.improvements] == [
        "  - \"main_menu\": gather + split over its Digits ('split_menu', 'invalid') became one "
        "menu; wrong keys and silence re-prompt as in Studio, now at most 10 times (Studio stops "
        "a widget run 10 times in a row)"
    ]


def test_widgets_without_a_counterpart_are_listed_with_what_replaced_them() -> None:
    report = imported("unmapped").report
    assert [str(e) for e in report.unmapped] == [
        '  - "check_hours": run-function: no counterpart in the engine yet; a say node says so '
        "and continues at 'to_queue'",
        '  - "to_queue": send-to-flex: no counterpart in the engine yet; a say node says so and '
        "ends the call (its failure transition is unwired)",
    ]
    assert [str(e) for e in report.todos] == [
        '  - "say_hours": say: {{widgets.check_hours.parsed.open}}'
    ]


def test_problems_studio_let_through_name_the_widget() -> None:
    problems = [str(e) for e in imported("gather_split").report.problems]
    assert problems == [
        '  - "ask_account": timeout is unwired: a caller who says nothing hears nothing more; '
        "Studio ends the call there",
        '  - "check": noMatch is unwired: a value that matches no condition; Studio ends the call there',
    ]


def test_an_untranslatable_condition_is_a_todo_in_the_report() -> None:
    todos = [str(e) for e in imported("gather_split").report.todos]
    assert todos == [
        "  - \"check\": condition '{{widgets.ask_account.Digits}} is_before_time 10:00': "
        "is_before_time is not translated"
    ]


def test_liquid_dates_run_in_pacific_time_as_in_studio() -> None:
    result = imported("http_set_message")
    assert "timezone: America/Los_Angeles\n" in result.yaml
    assert any("Pacific time" in e.message for e in result.report.notes)


def test_language_copies_of_widgets_are_pointed_at_not_merged() -> None:
    from ivr_engine.studio import import_studio

    flow = """{"initial_state": "T", "states": [
      {"name": "T", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "hello_english"}]},
      {"name": "hello_english", "type": "say-play", "properties": {"say": "Hello"},
       "transitions": [{"event": "audioComplete", "next": "hello_spanish"}]},
      {"name": "hello_spanish", "type": "say-play", "properties": {"say": "Hola"}, "transitions": []}]}"""
    result = import_studio(flow, "two.json")
    assert "hello_english:" in result.yaml and "hello_spanish:" in result.yaml
    assert [e.message.split(":")[0] for e in result.report.notes] == [
        "1 widget(s) are copied per language, left as they are"
    ]


def test_a_liquid_retry_counter_becomes_attempts_and_the_report_says_so() -> None:
    result = imported("retry_counter")
    assert "    attempts: 3\n    on_failure: goodbye\n" in result.yaml
    assert "count_zip_tries" not in result.yaml and "zip_tries" not in result.yaml
    assert [e.message for e in result.report.improvements] == [
        "the Liquid retry counter flow.variables.zip_tries ('count_zip_tries', 'enough_tries') "
        "became attempts: 3, then on to 'goodbye'"
    ]


def test_a_loop_that_never_waits_is_a_problem_named_by_widget() -> None:
    from ivr_engine.studio import import_studio

    flow = """{"initial_state": "T", "states": [
      {"name": "T", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "hold"}]},
      {"name": "hold", "type": "say-play", "properties": {"say": "Please hold."},
       "transitions": [{"event": "audioComplete", "next": "again"}]},
      {"name": "again", "type": "split-based-on", "properties": {"input": "{{flow.variables.x}}"},
       "transitions": [{"event": "noMatch", "next": "hold"}]}]}"""
    report = import_studio(flow, "loop.json").report
    assert not report.validates
    assert [str(e) for e in report.problems] == [
        '  - "hold": loops without waiting for the caller ("hold" -> "again" -> "hold"): Studio '
        "replays it until the execution stops at 1,000 steps; the engine refuses the flow: break "
        "the loop"
    ]
