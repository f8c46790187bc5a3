"""The contract between the core and an array library: the primitive kernels.

A backend is an object whose attributes are these kernels. The core calls them
directly (`x.backend.exp(x._array)`), so a kernel is one attribute lookup away and
nothing is looked up per operation. Everything else (softmax, var, clamp, every
backward formula) is composed in the core from these primitives.

`KERNELS` lists them all, one row each: its name, its kind (elementwise on
one array or two, reduction, movement, indexing, creation, ...; see `KINDS`),
whether it is required, and for elementwise kernels the Array API standard's
name for it:

>>> KERNELS["pow"]
('binary', 'required', ('pow', 'power'))

* REQUIRED: a backend must provide every one of them; the registry refuses a
  backend that lacks one (see `missing_primitives`).
* OPTIONAL: fast paths. `Backend` implements each with the required
  primitives, so a subclass that leaves one out is still correct; override it
  when the library does the job faster (one fused call, fewer temporaries,
  better precision: `log1p`, `expm1`).

The built-in backends take their elementwise kernels from the table: each
binds its library's function under the standard's name (or an older NumPy
spelling), so a kernel added to the table reaches every one of them.
`CONTRACT_VERSION` says which kernels a backend can expect.

Arrays are opaque to the core except for two attributes every Array API array
has: `.shape` (a tuple of ints) and `.ndim`. Dtypes are plugrad's own
(`plugrad.float32`, ...); a backend maps them to its library's types.

Rules every kernel follows:

* Binary kernels take two arrays, or an array and a Python number on either
  side; a Python number never changes the result dtype (the core has already
  cast both operands to the result dtype it wants).
* Results are new arrays unless the kernel is documented as a view or as a
  write. A 0-d result may be the library's scalar type (NumPy's float32, ...)
  if it has `.shape`, `.ndim` and `.dtype`; before writing into data or sharing
  it between tensors the core calls `mutable(x)`, which returns a writable
  array (x itself when it already is one).
* Write kernels (`setitem`, `index_add`, `add_into`, `mul_into`; contract 2.0)
  RETURN the array holding the result: a library that writes in place returns
  its argument, an immutable one (JAX) a new array. The core always rebinds
  the tensor to what is returned (a kernel of contract 1.x returning None
  means "written in place", so older backends keep working).
* Two class attributes say what the library's arrays can do: `writable`
  (a write kernel changes its argument in place) and `views` (`getitem` with
  basic indices, `reshape`, `permute`, `broadcast_to` and `unfold` give arrays
  that alias their argument). Both default to True. Where either is False the
  core keeps torch's semantics itself (plugrad.aliases): a write through a
  view reaches its base and every other view of it.
* Kernels raise the library's own exceptions; the core turns them into torch's
  error types with messages that name shapes and ops.
* The host is NumPy: `to_host` returns a NumPy array and `from_host` takes
  one. Moving a tensor between two backends (`x.to("cupy")`) goes through it.
* A lazy backend (`lazy = True`, such as Dask) returns arrays that stand for
  work not done yet; `shape` and `dtype` must still be known at once. Its
  values are computed by `to_host`, `tolist` and `compute`, and the core calls
  those only when the user asks for values.
* Creation kernels of a chunked backend (`full`, `arange`, `linspace`, `eye`,
  `asarray`, `from_host`, `uniform`, `normal`, `randint`) take a keyword
  `chunks=`, passed only when the user gives one (`pg.zeros(..., chunks=...)`);
  a backend without chunked arrays need not accept it.

The quickest way to write a backend is `plugrad.backends.array_api.ArrayAPIBackend`,
which implements every kernel on any Array API standard namespace; see
docs/writing-a-backend.md.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

# annotations only (never evaluated): an array of the backend's library, any Python value.
# typing is not imported: `import plugrad` reads this module and typing costs milliseconds
Array = object
Any = object

# The contract's version, (major, minor). A minor version only adds optional kernels, so a
# backend written for an older one keeps working: Backend's fallbacks fill in. Changing or
# adding a required kernel would be a new major version.
#   1.0  the kernels before the contract had a version
#   1.1  optional log1p and expm1 (unary; fallbacks log(1 + x) and exp(x) - 1)
#   1.2  optional cumsum and cumprod (scan; fallback a log-step scan of concat and add/mul),
#        sort and argsort (sort; sort falls back on argsort and getitem, argsort raises);
#        log2 log10 floor ceil round trunc sinh cosh tan asin acos atan erf erfinv isnan
#        isinf isfinite (unary), atan2 hypot fmod remainder floor_divide (binary)
#   1.3  optional random_stream (random): an independent random stream from a seed, for
#        plugrad.Generator (fallback: SeededStream, which reseeds the backend's own generator
#        before each draw)
#   1.4  optional unfold (movement: sliding windows along one axis, a view where the library
#        has strides; fallback one strided getitem per window offset, joined by concat)
#   1.5  optional inv solve cholesky qr svd eigh slogdet det (linear algebra of batched
#        matrices; no fallback but det's, which composes slogdet)
#   2.0  write kernels (setitem index_add add_into mul_into) return the array holding the
#        result and the core rebinds to it; class attributes `writable` and `views` (default
#        True); `process_switches` names process-wide switches a factory turns on. A
#        backend of contract 1.x still loads: its write kernels return None, which the core
#        reads as "written in place", and it inherits writable = views = True
#   2.1  optional nonzero (indexing: the (n, ndim) indices of the true elements; fallback a
#        Python loop over tolist), count_nonzero (reduce; fallback sum of ne(x, 0) as int64)
#        and clip (select: x limited to [lo, hi] in one pass; fallback maximum then minimum)
CONTRACT_VERSION = (2, 1)

# what each kind of kernel is (the `kind` column of KERNELS)
KINDS = {
    "unary": "elementwise, one array: f(x)",
    "binary": "elementwise, two operands: f(a, b), an array and a Python number on either side",
    "reduce": "reductions: f(x, axis, keepdims)",
    "select": "where(cond, a, b)",
    "linalg": "linear algebra",
    "movement": "shapes and axis order: views where the library has views",
    "indexing": "reading and writing parts of an array",
    "memory": "writable arrays and copies",
    "creation": "new arrays from data or a description",
    "dtype": "dtype conversion and mapping",
    "host": "to and from the host (NumPy)",
    "random": "random numbers",
    "in-place": "in-place arithmetic (optimizers, gradient sums)",
    "lazy": "evaluating deferred work",
    "scan": "inclusive cumulative reductions along one axis: f(x, axis)",
    "sort": "sorting along one axis: f(x, axis, descending, stable)",
}
ELEMENTWISE_KINDS = ("unary", "binary")

# The contract, one row per kernel: the one list of its kernels and their names. The
# exported tuples below (REQUIRED, OPTIONAL, UNARY, ...) and the built-in backends'
# elementwise kernels are all made from it, so adding a kernel is one row here (plus, for an
# optional one, its fallback on Backend, written with required kernels).
#
#   kind   what the kernel does, and so how it is called: one of KINDS
#   need   "required": every backend has it, and the registry refuses one that lacks it;
#          "optional": Backend implements it with required kernels, a backend may do better
#   names  elementwise kernels only: the Array API standard's function for it first, then
#          older NumPy-style spellings (NumPy 1.x, CuPy 13). A backend on an array library
#          binds the first name its namespace has; () where the standard has no such function.
#          These are names in a public standard, not an import: the core stays library-free.
KERNELS = {
    # name           kind         need        names in the Array API standard, then NumPy's
    "neg":          ("unary",    "required", ("negative",)),
    "exp":          ("unary",    "required", ("exp",)),
    "log":          ("unary",    "required", ("log",)),
    "sqrt":         ("unary",    "required", ("sqrt",)),
    "sin":          ("unary",    "required", ("sin",)),
    "cos":          ("unary",    "required", ("cos",)),
    "tanh":         ("unary",    "required", ("tanh",)),
    "abs":          ("unary",    "required", ("abs", "absolute")),
    "sign":         ("unary",    "required", ("sign",)),
    "logical_not":  ("unary",    "required", ("logical_not",)),
    "sigmoid":      ("unary",    "optional", ()),
    "log1p":        ("unary",    "optional", ("log1p",)),
    "expm1":        ("unary",    "optional", ("expm1",)),
    "log2":         ("unary",    "optional", ("log2",)),
    "log10":        ("unary",    "optional", ("log10",)),
    "floor":        ("unary",    "optional", ("floor",)),
    "ceil":         ("unary",    "optional", ("ceil",)),
    "round":        ("unary",    "optional", ("round",)),
    "trunc":        ("unary",    "optional", ("trunc",)),
    "sinh":         ("unary",    "optional", ("sinh",)),
    "cosh":         ("unary",    "optional", ("cosh",)),
    "tan":          ("unary",    "optional", ("tan",)),
    "asin":         ("unary",    "optional", ("asin", "arcsin")),
    "acos":         ("unary",    "optional", ("acos", "arccos")),
    "atan":         ("unary",    "optional", ("atan", "arctan")),
    "erf":          ("unary",    "optional", ()),
    "erfinv":       ("unary",    "optional", ()),
    "isnan":        ("unary",    "optional", ("isnan",)),
    "isinf":        ("unary",    "optional", ("isinf",)),
    "isfinite":     ("unary",    "optional", ("isfinite",)),
    "add":          ("binary",   "required", ("add",)),
    "sub":          ("binary",   "required", ("subtract",)),
    "mul":          ("binary",   "required", ("multiply",)),
    "div":          ("binary",   "required", ("divide",)),
    "pow":          ("binary",   "required", ("pow", "power")),
    "maximum":      ("binary",   "required", ("maximum",)),
    "minimum":      ("binary",   "required", ("minimum",)),
    "eq":           ("binary",   "required", ("equal",)),
    "ne":           ("binary",   "required", ("not_equal",)),
    "lt":           ("binary",   "required", ("less",)),
    "le":           ("binary",   "required", ("less_equal",)),
    "gt":           ("binary",   "required", ("greater",)),
    "ge":           ("binary",   "required", ("greater_equal",)),
    "logical_and":  ("binary",   "required", ("logical_and",)),
    "logical_or":   ("binary",   "required", ("logical_or",)),
    "atan2":        ("binary",   "optional", ("atan2", "arctan2")),
    "hypot":        ("binary",   "optional", ("hypot",)),
    "fmod":         ("binary",   "optional", ("fmod",)),  # not in the standard; NumPy's name
    "remainder":    ("binary",   "optional", ("remainder",)),
    "floor_divide": ("binary",   "optional", ("floor_divide",)),
    "sum":          ("reduce",   "required", ()),
    "prod":         ("reduce",   "required", ()),
    "max":          ("reduce",   "required", ()),
    "min":          ("reduce",   "required", ()),
    "argmax":       ("reduce",   "required", ()),
    "argmin":       ("reduce",   "required", ()),
    "where":        ("select",   "required", ()),
    "matmul":       ("linalg",   "required", ()),
    "reshape":      ("movement", "required", ()),
    "permute":      ("movement", "required", ()),
    "broadcast_to": ("movement", "required", ()),
    "concat":       ("movement", "required", ()),
    "getitem":      ("indexing", "required", ()),
    "index_add":    ("indexing", "required", ()),
    "setitem":      ("indexing", "required", ()),
    "mutable":      ("memory",   "required", ()),
    "copy":         ("memory",   "required", ()),
    "asarray":      ("creation", "required", ()),
    "full":         ("creation", "required", ()),
    "arange":       ("creation", "required", ()),
    "linspace":     ("creation", "required", ()),
    "eye":          ("creation", "required", ()),
    "astype":       ("dtype",    "required", ()),
    "dtype_of":     ("dtype",    "required", ()),
    "to_host":      ("host",     "required", ()),
    "from_host":    ("host",     "optional", ()),
    "tolist":       ("host",     "optional", ()),
    "seed":         ("random",   "required", ()),
    "uniform":      ("random",   "required", ()),
    "normal":       ("random",   "required", ()),
    "randint":      ("random",   "required", ()),
    "mul_into":     ("in-place", "optional", ()),
    "add_into":     ("in-place", "optional", ()),
    "compute":      ("lazy",     "optional", ()),
    "cumsum":       ("scan",     "optional", ()),
    "cumprod":      ("scan",     "optional", ()),
    "sort":         ("sort",     "optional", ()),
    "argsort":      ("sort",     "optional", ()),
    "random_stream": ("random",  "optional", ()),
    "unfold":       ("movement", "optional", ()),
    "inv":          ("linalg",   "optional", ()),
    "solve":        ("linalg",   "optional", ()),
    "cholesky":     ("linalg",   "optional", ()),
    "qr":           ("linalg",   "optional", ()),
    "svd":          ("linalg",   "optional", ()),
    "eigh":         ("linalg",   "optional", ()),
    "slogdet":      ("linalg",   "optional", ()),
    "det":          ("linalg",   "optional", ()),
    "nonzero":      ("indexing", "optional", ()),
    "count_nonzero": ("reduce",  "optional", ()),
    "clip":         ("select",   "optional", ()),
}

# elementwise kernel -> its names in the Array API standard (for those the standard has)
ARRAY_API_NAMES = {name: names for name, (kind, _, names) in KERNELS.items() if names}


def _named(kind: str | None, need: str) -> tuple:
    """The kernels of `need` (and of `kind`, unless None), in the table's order."""
    return tuple(name for name, (k, n, _) in KERNELS.items()
                 if n == need and (kind is None or k == kind))


# the required kernels by kind, and the two lists the registry and plugins read
UNARY = _named("unary", "required")
BINARY = _named("binary", "required")
REDUCE = _named("reduce", "required")
OTHER = tuple(name for name in _named(None, "required") if name not in UNARY + BINARY + REDUCE)
REQUIRED = UNARY + BINARY + REDUCE + OTHER
OPTIONAL = _named(None, "optional")
PRIMITIVES = REQUIRED + OPTIONAL


# constants of Backend's fallbacks
_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046
_INF = float("inf")
# 2 ** (mantissa bits) of each float dtype: every float this large is an integer
_MAGIC = {"float16": 1024.0, "float32": 8388608.0, "float64": 4503599627370496.0}


class BackendUnavailable(RuntimeError):
    """A backend cannot be used here: its library is missing, no device, ...

    A backend's factory raises it to say why (the message is the reason shown
    by `plugrad backends`); `plugrad.backends.get` raises it for a backend that
    is unknown or not available, listing those that are.

    >>> raise BackendUnavailable("cupy is not installed (pip install 'plugrad[cupy]')")
    Traceback (most recent call last):
    ...
    plugrad.backend.BackendUnavailable: cupy is not installed (pip install 'plugrad[cupy]')
    """


class UnknownDeviceType(BackendUnavailable):
    """No backend declares this device type (`BackendSpec(device_type=...)`)."""


class BackendSpec:
    """What a plugin's `plugrad_backends` hook returns: a name and how to make the backend.

    `factory()` is called once, the first time the backend is used (or listed),
    so it is where the array library gets imported. It returns a `Backend` or
    raises `BackendUnavailable` with the reason it cannot run here.

    `device_type` is the torch device type the backend's arrays live on
    ("cpu", "cuda", or a new one such as "mps"): `device="mps"` on a creation
    function or `.to()` then finds this backend (plugrad.backends.for_device).

    >>> BackendSpec("mylib", lambda: None, "MyLib arrays on the CPU")
    BackendSpec('mylib', 'MyLib arrays on the CPU')
    """

    # a plain class, not a dataclass: `import plugrad` reads this module, and the
    # dataclasses module (with inspect behind it) would add milliseconds to it
    __slots__ = ("name", "factory", "description", "device_type")

    def __init__(self, name: str, factory: Callable[[], Backend], description: str = "",
                 device_type: str = "cpu"):
        self.name = name
        self.factory = factory
        self.description = description
        self.device_type = device_type

    def __repr__(self) -> str:
        return f"BackendSpec({self.name!r}, {self.description!r})"


class Backend:
    """Base class of backends: subclass it and provide every REQUIRED primitive.

    Elementwise kernels are the rows of KERNELS of kind "unary" and "binary"
    (`exp(x)`, `add(a, b)`); comparisons return bool arrays. The others are
    documented below: each required one by a placeholder that raises
    NotImplementedError, each optional one ("Optional.") by a working default
    written with the required primitives.

    `name` is set by the registry to the name the backend was registered
    under; `version` is shown by `plugrad backends` (the library's version).
    """

    name: str = "abstract"
    version: str = ""
    # the torch device type of its arrays: set by the registry from the BackendSpec
    device_type: str = "cpu"
    # True for a backend whose arrays are deferred computations (Dask): the core then
    # never forces values on its own and does not refuse arrays larger than memory
    lazy: bool = False
    # process-wide switches the backend needs and sets when it is made, each with why (JAX's
    # {"jax_enable_x64=True": "float64 arrays"}): they change the library for every user in
    # the process, so `plugrad backends` lists them
    process_switches: dict = {}
    # contract 2.0: whether a write kernel changes its argument in place (False: it returns a
    # new array, as JAX's x.at[i].set(v) does), and whether getitem (basic indices), reshape,
    # permute, broadcast_to and unfold give arrays that alias their argument (False: copies).
    # Where either is False the core functionalizes (plugrad.aliases): views remember how
    # they were made and are regenerated from their base after each write
    writable: bool = True
    views: bool = True

    def __repr__(self) -> str:
        return f"<plugrad backend {self.name!r}>"

    def _missing(self, kernel: str) -> NotImplementedError:
        """The error a required kernel's placeholder raises: it names the kernel (`kernel`
        attribute too), so a conformance run can tell which one a backend lacks."""
        err = NotImplementedError(f"backend {self.name!r} does not implement the required "
                                  f"kernel {kernel!r} (plugrad.backend.KERNELS)")
        err.kernel = kernel
        return err

    # reductions: `axis` is None (all) or a tuple of non-negative ints
    def sum(self, x: Array, axis: tuple | None, keepdims: bool) -> Array:
        """Sum over `axis`; ints and bools sum to int64."""
        raise self._missing('sum')

    def prod(self, x: Array, axis: tuple | None, keepdims: bool) -> Array:
        """Product over `axis`; ints and bools multiply to int64."""
        raise self._missing('prod')

    def max(self, x: Array, axis: tuple | None, keepdims: bool) -> Array:
        """Maximum over `axis` (NaN wins); on bools, any."""
        raise self._missing('max')

    def min(self, x: Array, axis: tuple | None, keepdims: bool) -> Array:
        """Minimum over `axis` (NaN wins); on bools, all."""
        raise self._missing('min')

    def argmax(self, x: Array, axis: int | None, keepdims: bool) -> Array:
        """int64 index of the first maximum along one axis (or of the flattened array)."""
        raise self._missing('argmax')

    def argmin(self, x: Array, axis: int | None, keepdims: bool) -> Array:
        """int64 index of the first minimum along one axis (or of the flattened array)."""
        raise self._missing('argmin')

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        """Elements of `a` where `cond`, else of `b`; `a`/`b` may be Python numbers."""
        raise self._missing('where')

    def matmul(self, a: Array, b: Array) -> Array:
        """Matrix product with NumPy's rules for 1-D and batched operands."""
        raise self._missing('matmul')

    # movement
    def reshape(self, x: Array, shape: tuple, copy: bool | None = None) -> Array:
        """Reshape; with copy=False raise ValueError rather than copy."""
        raise self._missing('reshape')

    def permute(self, x: Array, axes: tuple) -> Array:
        """Reorder axes (a view where the library has views)."""
        raise self._missing('permute')

    def broadcast_to(self, x: Array, shape: tuple) -> Array:
        """Broadcast to `shape` (a read-only view where possible)."""
        raise self._missing('broadcast_to')

    def concat(self, xs: Sequence[Array], axis: int) -> Array:
        """Join same-dtype arrays along an existing axis."""
        raise self._missing('concat')

    # indexing: `index` is a tuple of ints, slices, None, Ellipsis and arrays
    def getitem(self, x: Array, index: tuple) -> Array:
        """x[index] with NumPy's basic and advanced indexing rules."""
        raise self._missing('getitem')

    def index_add(self, x: Array, index: tuple, values: Array) -> Array:
        """A write: x[index] += values, adding once per repeated index; returns the array
        holding the result (x itself on a writable backend, a new array on an immutable one).
        """
        raise self._missing('index_add')

    def setitem(self, x: Array, index: tuple, values: Array | float) -> Array:
        """A write: x[index] = values; returns the array holding the result (x itself on a
        writable backend, a new array on an immutable one)."""
        raise self._missing('setitem')

    def mutable(self, x: Array) -> Array:
        """x as a writable array: x itself for arrays, a new 0-d array for a scalar type."""
        raise self._missing('mutable')

    def copy(self, x: Array) -> Array:
        """A new array with the same values."""
        raise self._missing('copy')

    # creation and conversion: `dtype` is a plugrad dtype. A chunked backend's creation
    # kernels (these, from_host and the random ones) also take `chunks=` (Dask's meaning:
    # a block shape, or "auto"), which the core passes only when the user gives it
    def asarray(self, data: Any, dtype=None) -> Array:
        """An array from nested Python sequences, numbers or a host array.

        With dtype=None the library infers it; the core then maps it with dtype_of.
        """
        raise self._missing('asarray')

    def full(self, shape: tuple, value: float, dtype) -> Array:
        """A new array of `shape` filled with `value`."""
        raise self._missing('full')

    def arange(self, start: float, stop: float, step: float, dtype) -> Array:
        raise self._missing('arange')

    def linspace(self, start: float, stop: float, num: int, dtype) -> Array:
        raise self._missing('linspace')

    def eye(self, n: int, m: int, dtype) -> Array:
        raise self._missing('eye')

    def astype(self, x: Array, dtype) -> Array:
        """A copy converted to `dtype`."""
        raise self._missing('astype')

    def dtype_of(self, x: Array):
        """The plugrad dtype of an array; raise TypeError for types plugrad lacks."""
        raise self._missing('dtype_of')

    # host transfer: the host is NumPy
    def to_host(self, x: Array) -> Any:
        """A NumPy array with the same values (shared memory where possible)."""
        raise self._missing('to_host')

    def from_host(self, host: Any, dtype) -> Array:
        """Optional. A new array of `dtype` holding a copy of the NumPy array `host`."""
        return self.asarray(host, dtype)

    def tolist(self, x: Array) -> Any:
        """Optional. Nested Python lists (a Python number for a 0-d array)."""
        return self.to_host(x).tolist()

    # random numbers: each backend owns its generator; plugrad.manual_seed seeds it. A lazy
    # backend draws them lazily (where the chunks are computed), never on the host
    def seed(self, seed: int) -> None:
        raise self._missing('seed')

    def uniform(self, shape: tuple, dtype) -> Array:
        """Uniform on [0, 1)."""
        raise self._missing('uniform')

    def normal(self, shape: tuple, dtype) -> Array:
        """Standard normal."""
        raise self._missing('normal')

    def randint(self, low: int, high: int, shape: tuple, dtype) -> Array:
        """Integers in [low, high)."""
        raise self._missing('randint')

    def random_stream(self, seed: int) -> Any:
        """Optional (contract 1.3). A new random stream seeded by `seed` (0 <= seed < 2**64).

        A stream is independent of the backend's own generator and of every
        other stream: `plugrad.Generator` draws from it. It has the kernels
        `uniform`, `normal` and `randint`, with the same arguments as the
        backend's (a chunked backend's take `chunks=` too), and
        `get_state()` (a value `json` can write) and `set_state(state)`, which
        takes what `get_state` returned and raises ValueError for anything else.

        The fallback (`SeededStream`) reseeds the backend's own generator
        (`seed`) with a number made from the stream's seed and its count of
        draws before each draw; a library with generator objects does better.
        """
        return SeededStream(self, seed)

    # optional fast paths
    def sigmoid(self, x: Array) -> Array:
        """Optional. 1 / (1 + exp(-x)) of a floating array."""
        return self.div(1, self.add(1, self.exp(self.neg(x))))

    def log1p(self, x: Array) -> Array:
        """Optional (contract 1.1). log(1 + x) of a floating array.

        The fallback loses the digits of a tiny x to the rounding of 1 + x; the
        library's own log1p keeps them.
        """
        return self.log(self.add(1, x))

    def expm1(self, x: Array) -> Array:
        """Optional (contract 1.1). exp(x) - 1 of a floating array.

        The fallback loses the digits of a tiny x to cancellation; the library's
        own expm1 keeps them.
        """
        return self.sub(self.exp(x), 1)

    def _lacks(self, kernel: str):
        err = NotImplementedError(f"backend {self.name!r} has no {kernel!r} kernel, and it "
                                  f"cannot be composed from the required ones")
        err.kernel = kernel
        raise err

    def log2(self, x: Array) -> Array:
        """Optional (contract 1.2). Base-2 logarithm; the fallback divides log(x) by log(2)."""
        return self.div(self.log(x), _LN2)

    def log10(self, x: Array) -> Array:
        """Optional (contract 1.2). Base-10 logarithm; the fallback divides log(x) by log(10)."""
        return self.div(self.log(x), _LN10)

    def round(self, x: Array) -> Array:
        """Optional (contract 1.2). Round half to even, floating arrays.

        The fallback adds and subtracts 2**(mantissa bits) to |x|, which rounds
        in the float unit's own mode (half to even); larger values are integers
        already, and NaN and inf stay as they are.
        """
        big = _MAGIC[self.dtype_of(x).name]
        a = self.abs(x)
        r = self.mul(self.sign(x), self.sub(self.add(a, big), big))
        return self.where(self.lt(a, big), r, x)

    def floor(self, x: Array) -> Array:
        """Optional (contract 1.2). Round toward -inf; the fallback corrects round(x)."""
        r = self.round(x)
        return self.where(self.gt(r, x), self.sub(r, 1), r)

    def ceil(self, x: Array) -> Array:
        """Optional (contract 1.2). Round toward +inf; the fallback corrects round(x)."""
        r = self.round(x)
        return self.where(self.lt(r, x), self.add(r, 1), r)

    def trunc(self, x: Array) -> Array:
        """Optional (contract 1.2). Round toward zero; the fallback is floor or ceil by sign."""
        return self.where(self.ge(x, 0), self.floor(x), self.ceil(x))

    def sinh(self, x: Array) -> Array:
        """Optional (contract 1.2). Hyperbolic sine; the fallback is (e**x - e**-x) / 2."""
        return self.div(self.sub(self.exp(x), self.exp(self.neg(x))), 2)

    def cosh(self, x: Array) -> Array:
        """Optional (contract 1.2). Hyperbolic cosine; the fallback is (e**x + e**-x) / 2."""
        return self.div(self.add(self.exp(x), self.exp(self.neg(x))), 2)

    def tan(self, x: Array) -> Array:
        """Optional (contract 1.2). Tangent; the fallback is sin(x) / cos(x)."""
        return self.div(self.sin(x), self.cos(x))

    def asin(self, x: Array) -> Array:
        """Optional (contract 1.2). Inverse sine; no fallback (NotImplementedError)."""
        self._lacks("asin")

    def acos(self, x: Array) -> Array:
        """Optional (contract 1.2). Inverse cosine; no fallback (NotImplementedError)."""
        self._lacks("acos")

    def atan(self, x: Array) -> Array:
        """Optional (contract 1.2). Inverse tangent; no fallback (NotImplementedError)."""
        self._lacks("atan")

    def atan2(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.2). The angle of the point (b, a); no fallback."""
        self._lacks("atan2")

    def erf(self, x: Array) -> Array:
        """Optional (contract 1.2). The error function (not in the Array API standard); no
        fallback (NotImplementedError)."""
        self._lacks("erf")

    def erfinv(self, x: Array) -> Array:
        """Optional (contract 1.2). The inverse error function (not in the Array API
        standard); no fallback (NotImplementedError)."""
        self._lacks("erfinv")

    def hypot(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.2). sqrt(a**2 + b**2); the fallback may overflow where the
        library's own does not."""
        return self.sqrt(self.add(self.mul(a, a), self.mul(b, b)))

    def fmod(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.2). C's fmod: the remainder with the sign of a.

        The fallback moves remainder(a, b) (the sign of b) by b where its sign is not a's:
        also right for integers, which the standard's remainder takes and divide does not.
        """
        r = self.remainder(a, b)
        moved = self.logical_and(self.ne(r, 0), self.ne(self.lt(r, 0), self.lt(a, 0)))
        return self.where(moved, self.sub(r, b), r)

    def remainder(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.2). Python's %: the remainder with the sign of b; the fallback
        is a - floor(a / b) * b (floating arrays)."""
        return self.sub(a, self.mul(self.floor(self.div(a, b)), b))

    def floor_divide(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.2). Python's //: a / b rounded down; the fallback is
        floor(a / b) (floating arrays)."""
        return self.floor(self.div(a, b))

    def isnan(self, x: Array) -> Array:
        """Optional (contract 1.2). NaN test (bool); the fallback is x != x."""
        return self.ne(x, x)

    def isinf(self, x: Array) -> Array:
        """Optional (contract 1.2). Infinity test (bool); the fallback is |x| == inf."""
        return self.eq(self.abs(x), _INF)

    def isfinite(self, x: Array) -> Array:
        """Optional (contract 1.2). Finiteness test (bool); the fallback is x - x == 0."""
        return self.eq(self.sub(x, x), 0)

    def mul_into(self, x: Array, y: Array | float) -> Array:
        """Optional. A write: x *= y (optimizers scale their state with it); returns the
        array holding the result, as every write kernel does (contract 2.0).

        The fallback computes the product and writes it back; a library with
        in-place ufuncs saves the temporary array, an immutable one returns
        the product.
        """
        out = self.setitem(x, (Ellipsis,), self.mul(x, y))
        return x if out is None else out

    def add_into(self, x: Array, y: Array | float) -> Array:
        """Optional. A write: x += y, y broadcast to x's shape (optimizers, gradient sums);
        returns the array holding the result.

        The fallback is `index_add` over the whole array; a library with in-place
        ufuncs makes it one call, an immutable one returns the sum.
        """
        out = self.index_add(x, (Ellipsis,), y)
        return x if out is None else out

    def compute(self, arrays: list) -> list:
        """Optional. Evaluate the pending work of `arrays` in one pass (`plugrad.compute`).

        Returns arrays with the same values, to replace the given ones (the same
        objects, where the backend can evaluate in place). An eager backend has
        nothing pending: the default returns `arrays` unchanged. A lazy backend
        computes them together, so work they share is done once.
        """
        return arrays

    # scans and sorting (contract 1.2): `axis` is one non-negative int
    def cumsum(self, x: Array, axis: int) -> Array:
        """Optional (contract 1.2). Inclusive cumulative sum along `axis`, in x's dtype.

        The fallback is a log-step (Hillis-Steele) scan of getitem, concat and add:
        log2(n) passes over the array where the library's own scan makes one.
        """
        return self._scan(x, axis, self.add)

    def cumprod(self, x: Array, axis: int) -> Array:
        """Optional (contract 1.2). Inclusive cumulative product along `axis`, in x's dtype."""
        return self._scan(x, axis, self.mul)

    def _scan(self, x: Array, axis: int, op: Callable) -> Array:
        n = x.shape[axis]
        head = (slice(None),) * axis
        shift = 1
        while shift < n:
            x = self.concat([self.getitem(x, head + (slice(0, shift),)),
                             op(self.getitem(x, head + (slice(shift, None),)),
                                self.getitem(x, head + (slice(0, n - shift),)))], axis)
            shift *= 2
        return x

    def sort(self, x: Array, axis: int, descending: bool, stable: bool) -> Array:
        """Optional (contract 1.2). x sorted along `axis`; NaN sorts as the largest value.

        The fallback gathers x at `argsort`'s indices.
        """
        idx = self.argsort(x, axis, descending, stable)
        int64 = self.dtype_of(idx)
        index = tuple(idx if i == axis else
                      self.reshape(self.arange(0, s, 1, int64),
                                   tuple(s if j == i else 1 for j in range(x.ndim)))
                      for i, s in enumerate(x.shape))
        return self.getitem(x, index)

    def argsort(self, x: Array, axis: int, descending: bool, stable: bool) -> Array:
        """Optional (contract 1.2). int64 indices that sort x along `axis` (see `sort`).

        With `stable`, equal elements keep their order (descending too). No
        fallback: sorting cannot be composed from the required kernels cheaply.
        """
        err = NotImplementedError(f"the {self.name!r} backend has no 'argsort' kernel "
                                  f"(optional in contract 1.2), so it cannot sort")
        err.kernel = "argsort"
        raise err

    # sliding windows (contract 1.4)
    def unfold(self, x: Array, axis: int, size: int, step: int) -> Array:
        """Optional (contract 1.4). The windows of `size` elements every `step` along `axis`.

        The result has x's shape with `axis` replaced by the number of windows,
        (n - size) // step + 1, and a new last axis of length `size`: element
        [..., i, ..., j] is x[..., i * step + j, ...]. The core only reads it (a
        strided view where the library has strides: NumPy's as_strided). The
        fallback takes one strided slice per offset j with getitem and joins
        them along the new axis with concat.
        """
        n = (x.shape[axis] - size) // step + 1
        head = (slice(None),) * axis
        shape = tuple(x.shape[:axis]) + (n,) + tuple(x.shape[axis + 1:])
        if size == 0:
            return self.full(shape + (0,), 0, self.dtype_of(x))
        parts = [self.reshape(self.getitem(x, head + (slice(j, j + step * (n - 1) + 1, step),)),
                              shape + (1,)) for j in range(size)]
        return self.concat(parts, len(shape))


    # linear algebra of matrices (contract 1.5): `a` is (..., m, n), leading dims a batch, as in
    # numpy.linalg and the Array API's linalg extension. The core checks shapes and dtypes
    # (floating) before the call; a kernel raises ValueError (NumPy's LinAlgError is one) for a
    # singular matrix (inv, solve) or one that is not positive definite (cholesky), which the
    # core turns into plugrad.linalg.LinAlgError. A decomposition cannot be composed from the
    # elementwise kernels at any sensible cost: these have no fallback (NotImplementedError)
    def inv(self, a: Array) -> Array:
        """Optional (contract 1.5). The inverse of each square matrix."""
        self._lacks("inv")

    def solve(self, a: Array, b: Array) -> Array:
        """Optional (contract 1.5). X with a @ X = b: a (..., n, n), b (..., n, k), same batch."""
        self._lacks("solve")

    def cholesky(self, a: Array) -> Array:
        """Optional (contract 1.5). The lower triangular L with a = L @ L^T (a symmetric positive
        definite; only its lower triangle is read)."""
        self._lacks("cholesky")

    def qr(self, a: Array, mode: str) -> tuple:
        """Optional (contract 1.5). (Q, R) of a = Q @ R; mode "reduced" (Q (..., m, k), k =
        min(m, n)) or "complete" (Q (..., m, m))."""
        self._lacks("qr")

    def svd(self, a: Array, full_matrices: bool) -> tuple:
        """Optional (contract 1.5). (U, S, Vh) with a = U @ diag(S) @ Vh, S descending."""
        self._lacks("svd")

    def eigh(self, a: Array) -> tuple:
        """Optional (contract 1.5). (eigenvalues ascending, eigenvectors as columns) of a
        symmetric matrix (the core passes one symmetric in both triangles)."""
        self._lacks("eigh")

    def slogdet(self, a: Array) -> tuple:
        """Optional (contract 1.5). (sign, log|det|) of each square matrix."""
        self._lacks("slogdet")

    def det(self, a: Array) -> Array:
        """Optional (contract 1.5). The determinant of each square matrix; the fallback is
        sign * exp(log|det|) from `slogdet`."""
        sign, logabs = self.slogdet(a)
        return self.mul(sign, self.exp(logabs))

    def nonzero(self, x: Array, dtype) -> Array:
        """Optional (contract 2.1). The indices of the true elements of a bool array, as an
        (n, x.ndim) array of the integer `dtype` (int64 from the core) in row-major order
        ((n, 0) for a 0-d x); the fallback walks `tolist` in Python."""
        shape = tuple(x.shape)
        flags = self.tolist(self.reshape(x, (-1,)))
        where = [i for i, f in enumerate(flags) if f]
        coords = []
        for i in where:
            row = []
            for s in reversed(shape):
                i, r = divmod(i, s)
                row.append(r)
            coords.extend(reversed(row))
        if not coords:
            return self.full((len(where), len(shape)), 0, dtype)
        return self.reshape(self.asarray(coords, dtype), (len(where), len(shape)))

    def clip(self, x: Array, lo, hi) -> Array:
        """Optional (contract 2.1). x limited to [lo, hi] (arrays of x's dtype broadcasting
        with x, or Python numbers; either may be None, not both): minimum(maximum(x, lo), hi),
        so hi wins where lo > hi and NaN stays NaN. The fallback is those two kernels (which
        may give +0.0 where the bound is -0.0; one pass of the library's clip need not)."""
        if lo is not None:
            x = self.maximum(x, lo)
        return x if hi is None else self.minimum(x, hi)

    def count_nonzero(self, x: Array, axis: tuple | None, dtype) -> Array:
        """Optional (contract 2.1). The number of nonzero (true) elements over `axis` (None:
        all) as an array of the integer `dtype` (int64 from the core); the fallback sums
        ne(x, 0) cast to `dtype` (the Array API standard's sum refuses bools)."""
        return self.sum(self.astype(self.ne(x, 0), dtype), axis, False)


_MASK64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """SplitMix64's finaliser: a well-spread 64-bit number from any 64-bit number."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class SeededStream:
    """The fallback of `Backend.random_stream`: a stream made of the backend's `seed` kernel.

    Draw n of the stream seeded s reseeds the backend's generator with the top
    32 bits of mix(mix(s) + n) and draws once, so the stream's state is two numbers and
    the same state always gives the same numbers (the backend's own generator
    is left reseeded: every plugrad draw goes through a stream).

    >>> class Counting(Backend):
    ...     def seed(self, seed): self.last = seed
    ...     def uniform(self, shape, dtype): return self.last
    >>> s = SeededStream(Counting(), 5)
    >>> s.uniform((2,), None) == SeededStream(Counting(), 5).uniform((2,), None)
    True
    >>> s.get_state()
    [5, 1]
    """

    __slots__ = ("backend", "seed", "draws")

    def __init__(self, backend: Backend, seed: int) -> None:
        self.backend = backend
        self.seed = seed
        self.draws = 0

    def _next(self):
        # a 32-bit seed: the most every library's seeding takes (NumPy's legacy RandomState)
        self.backend.seed(_mix((_mix(self.seed) + self.draws) & _MASK64) >> 32)
        self.draws += 1
        return self.backend

    def uniform(self, shape: tuple, dtype, **chunks) -> Array:
        return self._next().uniform(shape, dtype, **chunks)

    def normal(self, shape: tuple, dtype, **chunks) -> Array:
        return self._next().normal(shape, dtype, **chunks)

    def randint(self, low: int, high: int, shape: tuple, dtype, **chunks) -> Array:
        return self._next().randint(low, high, shape, dtype, **chunks)

    def get_state(self) -> list:
        return [self.seed, self.draws]

    def set_state(self, state) -> None:
        if (not isinstance(state, list) or len(state) != 2 or
                not all(type(v) is int and 0 <= v <= _MASK64 for v in state)):
            raise ValueError(f"not a state of this stream: {state!r:.80}")
        self.seed, self.draws = state


def missing_primitives(backend: Any) -> list:
    """The REQUIRED primitives `backend` does not implement (empty when it is complete).

    A primitive is missing when the attribute is absent, not callable, or still
    the placeholder of `Backend` that raises NotImplementedError.

    >>> missing_primitives(Backend())[:3]
    ['neg', 'exp', 'log']
    """
    missing = []
    for name in REQUIRED:
        kernel = getattr(backend, name, None)
        placeholder = getattr(Backend, name, None)
        if not callable(kernel) or (placeholder is not None and
                                    getattr(type(backend), name, None) is placeholder and
                                    name not in getattr(backend, "__dict__", {})):
            missing.append(name)
    return missing


def written(out: Array | None, x: Array) -> Array:
    """The array holding a write kernel's result: what it returned, or x for a kernel of
    contract 1.x, which returned None after writing into x in place.

    >>> written(None, "x"), written("new", "x")
    ('x', 'new')
    """
    return x if out is None else out
