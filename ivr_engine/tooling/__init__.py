"""Flow author tooling: simulate a call in the terminal, flow tests in YAML, coverage, diagrams.

Everything here drives the real runtime (`ivr_engine.runtime`) in-process through one
scripted-call module (`script`), which reads the TwiML back into what a caller hears (`twiml`).
"""
