"""`ivr lsp`: a language server for flow files, so any editor sees what `ivr validate` sees.

It sits beside the CLI and runs the same pipeline (`reader` -> `validation` -> `semantics` ->
`links`, through `FlowLoader`) on the text being edited. `outline` reads the cursor's place in
text that may not parse yet, `fields` answers what the composed schema says about a field,
`features` turns both into editor answers, and `server` wires them to pygls (an optional
dependency: `pip install 'ivr-engine[lsp]'`).
"""
