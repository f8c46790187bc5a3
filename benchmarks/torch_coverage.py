"""Which of torch's public names plugrad has, area by area, read from the installed torch.

    python benchmarks/torch_coverage.py            # the table, the missing names, item 3
    python benchmarks/torch_coverage.py --brief    # the table and item 3 only

The areas are torch.* functions, Tensor methods and attributes, torch.linalg,
torch.autograd and torch.nn.functional. Each area's names are `dir()` of the
installed torch, less the names the rules of EXCLUDE take out (each rule is a
line with its reason); a name counts as covered when plugrad has it in the
same place (`hasattr(plugrad, name)`, `hasattr(plugrad.Tensor, name)`, ...).

ITEM3 is item 3 of issue 16 ("the everyday tensor API"), copied as it is; its
names are checked in full: a name that torch has as a function must be a
plugrad function, one that torch has as a Tensor method must be a plugrad
Tensor method.

Importable: `coverage()` returns the areas' numbers and `item3_missing()` the
names of item 3 plugrad still lacks. No dependency beyond torch and plugrad.
"""
from __future__ import annotations

import argparse
import re
import sys
import types

# item 3 of issue 16, as written there
ITEM3 = """cumsum cumprod sort argsort topk kthvalue gather scatter scatter_add index_select
index_add masked_fill masked_select take einsum tensordot outer kron cross diff tril triu diag
diagonal trace flip roll repeat repeat_interleave tile expand expand_as unfold unique nonzero
count_nonzero norm logsumexp amax amin any all isnan isinf isfinite nan_to_num allclose isclose
equal lerp addmm addmv baddbmm bmm mv clamp_min clamp_max log2 log10 log1p expm1 rsqrt reciprocal
floor ceil round trunc frac sinh cosh asin acos atan atan2 tan erf erfinv hypot fmod remainder
logspace empty empty_like rand_like randn_like randint_like randperm bernoulli multinomial normal
Generator from_numpy as_tensor set_default_dtype get_default_dtype inference_mode meshgrid
broadcast_tensors chunk split tensor_split unbind movedim swapaxes view_as reshape_as type_as
new_zeros new_ones new_full new_tensor""".split()
# ... and its plugrad.linalg part
ITEM3_LINALG = """norm vector_norm matrix_norm inv solve det slogdet cholesky qr svd eigh
lstsq""".split()

# classes that are API (context managers, types a program constructs), kept although classes
API_CLASSES = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "Generator",
               "device", "dtype", "Size", "Tensor", "Function", "detect_anomaly",
               "set_detect_anomaly"}

# The rules: (reason, pattern on the name). A name of an area is left out when a pattern
# matches (re.search) or, for the first rules, when its kind says so.
EXCLUDE = [
    ("private or dunder (_name, __name__)", r"^_"),
    ("quantization", r"quant|^q_|qscheme|int_repr|fbgemm|^fake_"),
    ("sparse tensors", r"sparse|coalesce|^indices$|^values$|crow_|col_indices|row_indices|"
                       r"to_dense|nnz|dense_dim|^sspaddmm|^smm$|^hspmm$"),
    ("complex numbers", r"complex|conj|^real$|^imag$|angle|polar|view_as_real|resolve_neg|"
                        r"^is_neg$|^adjoint$"),
    ("named tensors", r"^names$|rename|refine_names|align_to|align_as|has_names"),
    ("hardware, memory and storage internals", r"mkldnn|cudnn|miopen|vulkan|mps|xpu|ipu|hpu|"
     r"mtia|nnpack|^is_cuda$|pin_memory|is_pinned|share_memory|storage|data_ptr|untyped|"
     r"nested|^fused_|^native_|^is_meta$|^is_quantized$|^is_shared$|^record_stream$|ipc|"
     r"^dlpack|__dlpack|^to_padded|^is_inference$|^module_load$|^apply_$|^map_$|^map2_$"),
    ("compiler, export, scripting and dispatch machinery", r"^compile|^export|^jit|^onnx|^fx$|"
     r"^vmap$|^func$|^library$|^ops$|^classes$|^overrides$|^sym_|^Sym|^is_grad_enabled_$|"
     r"^cond$|^while_loop$|^compiled_with_cxx11_abi$|^autocast|^get_autocast|^set_autocast|"
     r"^is_autocast|^clear_autocast|_autocast_|^use_deterministic|deterministic|^typename$|"
     r"^lobpcg$|^unify_type_list$|^segment_reduce$|^batch_norm_|^rnn_|_cell$|^gru$|^lstm$|"
     r"^has_torch_function|^handle_torch_function|^is_warn_always|^set_warn_always|^get_device"
     r"_module$|^set_vital|^vitals|^import_ir_module|^merge_type|^parse_"),
    ("typing helpers and internals that modules re-export", r"^Optional$|^cast$|^overload$|"
     r"^classproperty$|^boolean_dispatch$|^assert_int_or_pair$|^kineto_available$|"
     r"^variable$|^thread_safe_generator$|^profiler_|^reinforce$|^volatile$|^output_nr$|"
     r"^is_maia$|^is_xla$|^hash_tensor$|^is_view_replay_enabled$|^fork$|^wait$"),
    ("process setup", r"^init_num_threads$|^set_flush_denormal$|^get_file_path$|"
     r"^prepare_multiprocessing|^set_float32_matmul|^get_float32_matmul"),
]
_EXCLUDE = [(reason, re.compile(pattern)) for reason, pattern in EXCLUDE]


def excluded(name: str, obj, area: str) -> str | None:
    """The reason `name` is left out of `area`, or None when it counts."""
    for reason, pattern in _EXCLUDE:
        if pattern.search(name):
            return reason
    if isinstance(obj, types.ModuleType):
        return "a module"
    if isinstance(obj, type) and name not in API_CLASSES:
        return "a class that is not API a program calls"
    if area != "Tensor" and not callable(obj):
        return "not callable (a constant or a dtype)"
    return None


def _areas():
    """(area, torch object, plugrad object) for every area."""
    import plugrad
    import plugrad.nn.functional
    import torch
    import torch.nn.functional
    return [
        ("torch", torch, plugrad),
        ("Tensor", torch.Tensor, plugrad.Tensor),
        ("linalg", torch.linalg, getattr(plugrad, "linalg", None)),
        ("autograd", torch.autograd, plugrad.autograd),
        ("nn.functional", torch.nn.functional, plugrad.nn.functional),
    ]


def names(torch_obj, area: str) -> list:
    """The public names of a torch area after the EXCLUDE rules, sorted."""
    out = []
    for name in dir(torch_obj):
        try:
            obj = getattr(torch_obj, name)
        except Exception:  # noqa: BLE001 - a lazy attribute that cannot load here
            continue
        if excluded(name, obj, area) is None:
            out.append(name)
    return sorted(out)


def coverage() -> dict:
    """{area: {"total", "covered", "missing"}} with the covered and missing names listed."""
    result = {}
    for area, torch_obj, ours in _areas():
        wanted = names(torch_obj, area)
        covered = [n for n in wanted if ours is not None and hasattr(ours, n)]
        missing = [n for n in wanted if n not in set(covered)]
        result[area] = {"total": len(wanted), "covered": covered, "missing": missing}
    return result


def item3_missing() -> list:
    """Item 3's names plugrad lacks, as 'name' (function) or 'Tensor.name' (method)."""
    import plugrad
    import torch
    missing = []
    for name in ITEM3:
        if hasattr(torch, name) and not hasattr(plugrad, name):
            missing.append(name)
        if hasattr(torch.Tensor, name) and not hasattr(plugrad.Tensor, name):
            missing.append(f"Tensor.{name}")
    ours = getattr(plugrad, "linalg", None)
    missing += [f"linalg.{n}" for n in ITEM3_LINALG if ours is None or not hasattr(ours, n)]
    return missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--brief", action="store_true", help="no list of missing names")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare with (pip install torch)")
        return 2
    import plugrad
    print(f"torch {torch.__version__} against plugrad {plugrad.__version__}")
    result = coverage()
    print(f"\n{'area':<15}{'covered':>9}{'missing':>9}{'total':>7}{'coverage':>10}")
    all_covered = all_total = 0
    for area, r in result.items():
        n, total = len(r["covered"]), r["total"]
        all_covered += n
        all_total += total
        print(f"{area:<15}{n:>9}{len(r['missing']):>9}{total:>7}{n / max(total, 1):>10.0%}")
    print(f"{'all':<15}{all_covered:>9}{all_total - all_covered:>9}{all_total:>7}"
          f"{all_covered / max(all_total, 1):>10.0%}")
    if not args.brief:
        for area, r in result.items():
            print(f"\nmissing in {area} ({len(r['missing'])}):")
            print("  " + " ".join(r["missing"]) if r["missing"] else "  none")
    missing = item3_missing()
    total3 = len(ITEM3) + len(ITEM3_LINALG)
    print(f"\nissue 16 item 3: {total3} names, {len(missing)} places missing")
    print("  " + " ".join(missing) if missing else "  covered in full")
    return 0


if __name__ == "__main__":
    sys.exit(main())
