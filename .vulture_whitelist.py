"""Names vulture cannot see being used; vulture reads this file as a use of each of them.

Every name here is used from outside the scanned code (core, backends, conformance): by
the user's code, by Python or Jupyter through a protocol, or by the tests. The file is
never imported (`_` is vulture's convention for "some object"). pytest's hooks, fixtures
and marks are ignored by pattern in pyproject.toml, [tool.vulture].
"""

# plugrad.backends.__getattr__ (PEP 562): backends.BackendUnavailable, imported on first use
__getattr__

# plugrad.nn.parameter._ParameterMeta: isinstance(t, nn.Parameter)
__instancecheck__

# plugrad.viz.Graph: Jupyter shows a backward graph inline through _repr_svg_
_._repr_svg_

# plugrad.autograd.FunctionCtx: called on `ctx` by the forward and backward a user writes
_.save_for_backward
_.saved_tensors
_.mark_non_differentiable
_.mark_dirty
_.set_materialize_grads

# plugrad.autograd.gradcheck / gradgradcheck: accepted for torch's signature, no effect here
masked
gen_non_contig_grad_outputs

# plugrad.conformance.doc_examples.PageRun: tests/test_conformance.py runs a page in one call
_.run_all

# public API made by a call rather than a decorator: ops (plugrad.declare), dtype aliases
rsqrt
true_divide
double
long

# the backend contract (plugrad.backend): read by plugin authors and by plugrad backends
CONTRACT_VERSION
KINDS
ELEMENTWISE_KINDS
PRIMITIVES

# plugrad.nn.Module's public API that nothing in the core calls (torch's names)
_.register_forward_pre_hook
_.register_forward_hook
_.register_full_backward_hook
_.register_full_backward_pre_hook
_.register_module
_.get_parameter
_.get_buffer

# Tensor's public methods that no op calls
_.register_post_accumulate_grad_hook
_.nelement

# plugrad.backends.array_api: looked up by name, getattr(self, f"_fallback_{name}")
_._fallback_maximum
_._fallback_minimum

# plugrad.backends.dask_backend: dask's own attribute, and one read back through __dict__
_._chunks
_._plugrad_children

# plugrad.asin, acos, atan (core/pointwise.py): exported through __all__ (Ops.exported), and
# their kernels (Backend.asin, ...) reached through attrgetter by name
asin
acos
atan

# plugrad.nn.RNNCellBase and RNNBase: public API (parameters are read through
# Module._parameters inside plugrad)
_.weight_ih
_.weight_hh
_.flatten_parameters
_.all_weights
_.bias_ih
_.bias_hh

# plugrad.nn.Embedding.from_pretrained: torch's classmethod, called by the user's code
_.from_pretrained

# plugrad.linalg.svd / svdvals / lstsq: accepted for torch's signature (LAPACK's driver, lstsq's
# rcond for rank-deficient matrices), no effect here
driver
rcond
# plugrad.nn.TransformerEncoder.use_nested_tensor and Transformer.generate_square_subsequent_mask
# (core/nn/transformer.py): torch's public attribute and staticmethod, read by the user's code
_.use_nested_tensor
_.generate_square_subsequent_mask
# plugrad.compile (core/compile.py): functools-style __wrapped__ on a compiled function, and
# ExplainOutput.entries, read by the user's code
_.__wrapped__
_.entries
