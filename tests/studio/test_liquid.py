"""Studio's Liquid becomes the engine's Jinja2; what has no counterpart stays a marked TODO."""

from __future__ import annotations

import pytest

from ivr_engine.studio.liquid import Untranslatable, translate_expression, translate_text
from ivr_engine.studio.names import Names
from ivr_engine.templates import compile_text


def names() -> Names:
    return Names(
        gather_vars={"menu": "menu_input"}, http_vars={"api": "api"}, record_vars={"vm": "vm"}
    )


@pytest.mark.parametrize(
    ("liquid", "jinja"),
    [
        ("Hi {{trigger.call.From}}", "Hi {{ call.from }}"),
        (
            "{{ contact.channel.address }} to {{flow.channel.address}}",
            "{{ call.from }} to {{ call.to }}",
        ),
        ("{{widgets.menu.Digits}}", "{{ menu_input }}"),
        ("{{widgets.menu.SpeechResult | downcase | strip}}", "{{ ((menu_input | lower) | trim) }}"),
        ("{{widgets.api.parsed.order.items[0].name}}", "{{ api.body.order.items[0].name }}"),
        ("{{widgets.api.status_code}}", "{{ api.status }}"),
        ("{{widgets.vm.RecordingUrl}}", "{{ vm.url }}"),
        ("{{flow.variables.count | plus: 1}}", "{{ ((count | int) + 1) }}"),
        ("{{flow.variables.count | minus: 2}}", "{{ ((count | int) - 2) }}"),
        ("{{flow.variables.name | upcase}}", "{{ (name | upper) }}"),
        ("{{flow.variables.name | default: 'friend'}}", "{{ (name | default('friend', true)) }}"),
        ("{{ 'now' | date: '%H:%M' }}", "{{ now.strftime('%H:%M') }}"),
        (
            "{% if flow.variables.tries %}{{flow.variables.tries | plus: 1}}{% else %}0{% endif %}",
            "{% if tries %}{{ ((tries | int) + 1) }}{% else %}0{% endif %}",
        ),
        (
            "{% if flow.variables.lang == 'es' and flow.variables.vip %}Hola{% elsif flow.variables.x contains 'a' %}A{% endif %}",
            "{% if lang == 'es' and vip %}Hola{% elif ('a' in x) %}A{% endif %}",
        ),
        (
            "{% for i in (1..flow.variables.n) %}{{i}} {% endfor %}",
            "{% for i in range(1 | int, (n | int) + 1) %}{{ i }} {% endfor %}",
        ),
        ("{% assign who = trigger.call.From %}{{who}}", "{% set who = call.from %}{{ who }}"),
        ("{% if flow.variables.x > 3 %}big{% endif %}", "{% if (x | float) > 3 %}big{% endif %}"),
        (
            "{% if flow.variables.x == blank %}none{% endif %}",
            "{% if ((x | default('', true) | string | trim) == '') %}none{% endif %}",
        ),
    ],
)
def test_liquid_translates_to_jinja(liquid: str, jinja: str) -> None:
    translated = translate_text(liquid, names().resolve)
    assert (translated.text, translated.todos) == (jinja, [])
    compile_text(translated.text)  # and the engine accepts it


def test_a_root_without_counterpart_stays_verbatim_as_a_marked_todo() -> None:
    translated = translate_text("You are {{widgets.fn.parsed.tier}}.", names().resolve)
    assert translated.text == (
        "You are {% raw %}[TODO Studio Liquid: {{widgets.fn.parsed.tier}}]{% endraw %}."
    )
    assert translated.todos == ["{{widgets.fn.parsed.tier}}"]
    compile_text(translated.text)


def test_an_unknown_filter_is_a_todo_not_dropped() -> None:
    translated = translate_text("{{flow.variables.x | md5}}", names().resolve)
    assert translated.todos == ["{{flow.variables.x | md5}}"]


def test_an_untranslatable_tag_keeps_the_whole_text_so_blocks_still_pair() -> None:
    source = "{% case flow.variables.x %}{% when 1 %}one{% endcase %}"
    translated = translate_text(source, names().resolve)
    assert translated.text == "{% raw %}[TODO Studio Liquid: " + source + "]{% endraw %}"
    assert translated.todos == [source]


def test_a_date_filter_on_now_is_flagged_so_the_flow_runs_in_pacific_time() -> None:
    assert translate_text("{{ 'now' | date: '%H' }}", names().resolve).uses_clock


def test_a_split_input_becomes_one_expression() -> None:
    expression, _ = translate_expression("+1{{widgets.menu.Digits}}", names().resolve)
    assert expression == "'+1' ~ (menu_input)"
    with pytest.raises(Untranslatable, match="has no counterpart"):
        translate_expression("{{widgets.unknown.Digits}}", names().resolve)


def test_variable_names_the_engine_reserves_are_renamed() -> None:
    found = names()
    assert translate_text("{{flow.variables.call}}", found.resolve).text == "{{ studio_call }}"
    assert found.flow_vars == {"studio_call"}
