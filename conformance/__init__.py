"""The shared conformance suite every plugrad backend must pass.

Run it on a backend with `plugrad conformance NAME` or
`pytest --pyargs plugrad.conformance --plugrad-backend NAME` (docs/conformance.md).
It has four parts, each a pytest module of this package:

* test_docs: every example of the Markdown docs (shipped in this package as
  `plugrad.conformance.docs`) prints its documented output (`doc_examples`);
* test_ops: the op table (`op_table`), one entry per public op, each sample
  checked forward against NumPy, backward against finite differences, and
  twice differentiated where that applies (`checks`);
* test_engine_semantics: the backward engine's rules;
* test_properties: Hypothesis-drawn shapes, broadcasting and dims.

`plugin` is the pytest plugin (options, declared gaps, the per-op summary),
`runner` the `plugrad conformance` command, `target` resolves the backend
under test, and `examples` holds the autograd chapter's examples for
`plugrad tour`.
"""
