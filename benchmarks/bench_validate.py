"""How long loading and validating a large flow takes, next to a plain baseline.

Generates a 2,000-node flow (menus, gathers, branches, templates, every node type), then
times `FlowLoader.load_text` (read with positions, schema, semantics, compile) against a
baseline doing only `yaml.safe_load` plus a `jsonschema` validation of the same text with
the same schema. The ratio is what to compare across machines; the seconds are this one's.
"first load" forgets every checked template before each run; "reload" keeps them, as a
server reloading an edited flow does.

    python benchmarks/bench_validate.py [--sections 200] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.templates import clear_caches


def section(i: int, last: bool) -> str:
    """Ten nodes: a menu leading to a say, a gather, a branch and what the branch picks."""
    onward = "bye" if last else f"m{i + 1}"
    return f"""
  m{i}:
    type: menu
    prompt: "Section {i}: press 1 to hear about it, 2 to enter a code, 3 to go on."
    options:
      1: info{i}
      2: {{next: ask{i}, say: [code, enter code]}}
      3: {onward}
    input: dtmf speech
    no_match: "Sorry {{{{ name }}}}, that is not a choice."
    on_failure: bye
  info{i}:
    type: say
    text:
      en-US: "Hello {{{{ name }}}}, this is section {i}."
      es-MX: "Hola {{{{ name }}}}, esta es la sección {i}."
    next: p{i}
  p{i}:
    type: pause
    seconds: 1
    next: m{i}
  ask{i}:
    type: gather
    prompt: Please enter your four-digit code.
    into: code{i}
    pattern: "[0-9]{{4}}"
    on_failure: bye
    next: check{i}
  check{i}:
    type: branch
    cases:
      - when: code{i} == '1234'
        next: vip{i}
      - when: code{i} | int > 5000 and call.from.startswith('+1')
        next: hi{i}
    default: lo{i}
  vip{i}:
    type: set
    vars:
      tier: gold
      last_code: "{{{{ code{i} }}}}"
    next: notify{i}
  hi{i}:
    type: hours
    schedule:
      mon-fri: ["09:00-17:00"]
      sat: ["10:00-12:00"]
    holidays: [2026-12-25]
    open: lo{i}
    closed: vm{i}
  lo{i}:
    type: dial
    to: "+1555{i:07d}"
    on:
      busy: vm{i}
      no-answer: vm{i}
    next: notify{i}
  vm{i}:
    type: record
    prompt: Please leave a message.
    into: message{i}
    next: notify{i}
  notify{i}:
    type: message
    body: "Code {{{{ code{i} | default('none') }}}} from {{{{ call.from }}}} ({{{{ tier }}}})"
    next: m{i}
"""


def generate(sections: int) -> str:
    head = (
        "# yaml-language-server: $schema=../schemas/flow.schema.json\n"
        "description: generated benchmark flow\n"
        "start: m0\n"
        "timezone: America/New_York\n"
        "vars:\n  name: friend\n  tier: standard\n"
        "nodes:\n"
    )
    body = "".join(section(i, i == sections - 1) for i in range(sections))
    tail = "  bye:\n    type: hangup\n    text: Goodbye.\n"
    return head + body + tail


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """Median CPU time of this process: other work on a shared machine does not count."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=200, help="10 nodes each (default 200)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median)")
    args = parser.parse_args()

    text = generate(args.sections)
    loader = FlowLoader(project_registry())
    result = loader.load_text(text, "bench.yaml", "bench")  # warms caches as a server would
    assert not result.warnings, result.warnings[:3]
    nodes = len(result.flow.nodes)
    validator = jsonschema.Draft202012Validator(loader.registry.schema)

    def baseline() -> int:
        # iter_errors, not validate(): plain PyYAML reads every `on:` key as True, so the
        # baseline "finds" errors in a valid flow; it must still do the whole walk.
        return sum(1 for _ in validator.iter_errors(yaml.safe_load(text)))

    def first_load() -> None:
        clear_caches()
        loader.load_text(text, "bench.yaml", "bench")

    engine = median_seconds(first_load, args.runs)
    reload = median_seconds(lambda: loader.load_text(text, "bench.yaml", "bench"), args.runs)
    plain = median_seconds(baseline, args.runs)
    parse_only = median_seconds(lambda: yaml.safe_load(text), args.runs)

    print(f"flow: {nodes} nodes, {len(text.splitlines())} lines, {len(text) / 1024:.0f} KiB")
    print(f"median CPU time of {args.runs} runs:")
    print(
        f"  ivr-engine first load           {engine * 1000:8.1f} ms   {engine / plain:5.2f}x baseline"
    )
    print(
        f"  ivr-engine reload               {reload * 1000:8.1f} ms   {reload / plain:5.2f}x baseline"
    )
    print(f"  baseline safe_load + jsonschema {plain * 1000:8.1f} ms   1.00x")
    print(
        f"  (yaml.safe_load alone           {parse_only * 1000:8.1f} ms   {parse_only / plain:5.2f}x)"
    )
    print(
        f"the baseline reports {baseline()} bogus errors on this valid flow "
        "(YAML 1.1 turns each dial's `on:` into True); ivr-engine reports none"
    )


if __name__ == "__main__":
    main()
