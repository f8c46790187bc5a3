"""plugrad.random and plugrad.Generator: seeded random streams, as torch's.

A `Generator` is a seed and, for each backend it has drawn on, a random
stream of that backend's (the backend kernel `random_stream(seed)`: a NumPy Generator
on the NumPy backend, a reseeded backend generator where a backend has no
streams of its own). Every random function takes `generator=`; without it, it
draws from the default generator of the backend's device type
(`plugrad.default_generator` for "cpu"), which `plugrad.manual_seed` seeds.

The same seed gives the same numbers, on one backend: a NumPy-backed stream
is not torch's Mersenne Twister, so the numbers are not torch's.

>>> import plugrad as pg
>>> g = pg.Generator().manual_seed(7)
>>> a = pg.rand(3, generator=g)
>>> g.manual_seed(7) is g
True
>>> bool((pg.rand(3, generator=g) == a).all())
True
"""
from __future__ import annotations

import os

from . import dtypes
from .backends import for_device
from .device import device as as_device
from .tensor import Tensor, _make

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_U64 = 1 << 64
# torch's seed of a new Generator (torch.Generator().initial_seed())
_DEFAULT_SEED = 67280421310721
_STATE_FORMAT = "plugrad-generator-state"


def _seed_value(seed) -> int:
    """A seed as an unsigned 64-bit number; negative seeds wrap around, as in torch."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}"
                            ) from None
    if not -(1 << 63) <= seed < _U64:
        raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside "
                         f"[-2**63, 2**64)")
    return seed % _U64


def _fresh_seed() -> int:
    return int.from_bytes(os.urandom(8), "little") >> 1  # torch's seed() too stays below 2**63


class Generator:
    """A random number generator: a seed, and the random streams drawn from it.

    `device` is the device type whose backends it draws on ("cpu": NumPy,
    Dask, array API backends; "cuda": CuPy). Its state (`get_state`) is a
    1-D int64 tensor of byte values (torch's is uint8, a dtype plugrad lacks).

    >>> import plugrad as pg
    >>> g = pg.Generator()
    >>> g.initial_seed()
    67280421310721
    >>> state = g.get_state()
    >>> x = pg.randn(2, generator=g)
    >>> _ = g.set_state(state)
    >>> bool((pg.randn(2, generator=g) == x).all())
    True
    """

    __slots__ = ("_device", "_seed", "_streams", "_saved", "__weakref__")

    def __init__(self, device="cpu") -> None:
        self._device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._streams: dict = {}   # backend -> its stream
        self._saved: dict = {}     # backend name -> a stream state set_state gave, not yet used

    @property
    def device(self):
        return self._device

    def __repr__(self) -> str:
        return f"<plugrad.Generator object at {id(self):#x} (device={self._device})>"

    def manual_seed(self, seed) -> "Generator":
        """Start over from `seed` (an int; negative seeds wrap modulo 2**64); returns self."""
        self._seed = _seed_value(seed)
        self._streams = {}
        self._saved = {}
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the new seed."""
        value = _fresh_seed()
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed the generator started from (its last manual_seed or seed)."""
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state, to give back to `set_state`: a 1-D tensor of byte values."""
        import json  # lazy: only states need it, `import plugrad` must not pay for it
        streams = dict(self._saved)
        for bk, stream in self._streams.items():
            streams[bk.name] = stream.get_state()
        text = json.dumps({"format": _STATE_FORMAT, "seed": self._seed, "streams": streams})
        k = for_device("cpu")
        data = list(text.encode())
        return _make(k.asarray(data, dtypes.int64), dtypes.int64, k)

    def set_state(self, new_state: Tensor) -> "Generator":
        """Go back to a state `get_state` returned (of any plugrad Generator); returns self.

        A tensor that is not such a state raises (TypeError for a tensor that is
        not of integers, RuntimeError for one that holds no state) and leaves the
        generator as it was.
        """
        import json
        if not isinstance(new_state, Tensor) or new_state.dtype not in (dtypes.int64,
                                                                      dtypes.int32):
            raise TypeError("RNG state must be an integer tensor of byte values (plugrad's "
                            "Generator.get_state())")
        values = new_state.reshape(-1).tolist()
        try:
            meta = json.loads(bytes(values).decode())
        except (ValueError, TypeError, RecursionError):
            meta = None
        if (not isinstance(meta, dict) or meta.get("format") != _STATE_FORMAT or
                type(meta.get("seed")) is not int or not 0 <= meta["seed"] < _U64 or
                not isinstance(meta.get("streams"), dict)):
            raise RuntimeError(f"set_state: this tensor of {len(values)} values is not a "
                               f"plugrad Generator state (get_state() makes one)")
        self._seed = meta["seed"]
        self._streams = {}
        self._saved = meta["streams"]
        return self

    def _stream(self, bk):
        """The generator's stream on backend `bk` (made on first use)."""
        if bk.device_type != self._device.type:
            raise RuntimeError(f"Expected a '{bk.device_type}' device type for generator but "
                               f"found '{self._device.type}'")
        stream = bk.random_stream(self._seed)
        saved = self._saved.pop(bk.name, None)
        if saved is not None:
            try:
                stream.set_state(saved)
            except ValueError as err:
                raise RuntimeError(f"the Generator state set for backend {bk.name!r} is not "
                                   f"one of its streams: {err}") from None
        self._streams[bk] = stream
        return stream

    def __getstate__(self):
        raise TypeError("a plugrad Generator is not picklable; save get_state() instead")


# -- the default generators, one per device type -----------------------------------------------
default_generator = Generator("cpu").manual_seed(_fresh_seed())
_defaults = {"cpu": default_generator}


def _default(device_type: str) -> Generator:
    g = _defaults.get(device_type)
    if g is None:
        g = _defaults[device_type] = Generator(device_type).manual_seed(
            default_generator.initial_seed())
    return g


def stream(generator, bk):
    """The random stream that a draw on backend `bk` with `generator=` (None: default) uses."""
    g = generator
    if g is None:
        g = _defaults.get(bk.device_type) or _default(bk.device_type)
    elif not isinstance(g, Generator):
        raise TypeError(f"generator must be a plugrad.Generator, got {type(g).__name__}")
    s = g._streams.get(bk)
    return s if s is not None else g._stream(bk)


def manual_seed(seed) -> Generator:
    """Seed every default generator (every device type); returns `plugrad.default_generator`.

    >>> import plugrad as pg
    >>> pg.manual_seed(0) is pg.default_generator
    True
    """
    value = _seed_value(seed)
    for g in _defaults.values():
        g.manual_seed(value)
    return default_generator


def seed() -> int:
    """Seed the default generators from the operating system's entropy; returns the seed."""
    value = _fresh_seed()
    manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed of `plugrad.default_generator`."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The state of `plugrad.default_generator` (see `Generator.get_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Put `plugrad.default_generator` back in a state `get_rng_state` returned."""
    default_generator.set_state(new_state)


class fork_rng:  # noqa: N801 - torch's name
    """Within the block, draws are made on copies: the default generators' states come back
    after it (`devices` and `device_type` are accepted for torch's signature; every default
    generator is restored).

    >>> import plugrad as pg
    >>> _ = pg.manual_seed(1)
    >>> with pg.random.fork_rng():
    ...     a = pg.rand(2)
    >>> bool((pg.rand(2) == a).all())
    True
    """

    def __init__(self, devices=None, enabled: bool = True, device_type: str = "cuda") -> None:
        del devices, device_type  # every default generator is saved and restored
        self.enabled = enabled
        self._states: list = []

    def __enter__(self):
        if self.enabled:
            self._states = [(g, g.get_state()) for g in _defaults.values()]
        return None

    def __exit__(self, *_exc) -> None:
        for g, state in self._states:
            g.set_state(state)
        self._states = []
