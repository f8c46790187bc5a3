"""The shared conformance suite every plugrad backend must pass.

It grows from the documented examples (docs/) and the engine semantics; see
the conformance issue. For now it holds the documented autograd examples,
`plugrad.conformance.examples`, which the tests run on every backend.
"""
