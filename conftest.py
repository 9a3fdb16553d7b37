"""Flow tests in YAML (flows/tests/*.yaml) run under pytest too, beside the Python tests."""

pytest_plugins = ["ivr_engine.tooling.pytest_plugin"]
