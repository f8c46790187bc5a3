"""Grad modes: whether new operations are recorded for backward.

The flag is thread-local, as in torch: a `no_grad` block in one thread never
changes what another thread records, and every new thread starts with grad on.
"""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "is_inference_mode_enabled"]


class _State(threading.local):
    # class attributes are the per-thread defaults
    grad_enabled = True
    inference = False


STATE = _State()


class _Anomaly:
    """Anomaly detection switches (process-wide, as in torch); see plugrad.autograd.anomaly_mode."""

    enabled = False
    check_nan = True


ANOMALY = _Anomaly()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are being recorded."""
    return STATE.grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside an `inference_mode()` block."""
    return STATE.inference


class _GradModeContext:
    """Base for the grad-mode context managers; each works as a decorator too."""

    def _enter_mode(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._saved = (STATE.grad_enabled, STATE.inference)
        self._enter_mode()
        return None

    def __exit__(self, *_exc) -> None:
        STATE.grad_enabled, STATE.inference = self._saved

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class _NoArgMode(_GradModeContext):
    """A mode usable as `@mode()` and, like torch, as a bare `@mode`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments")
        return cls()(orig_func)

    def __init__(self, orig_func=None) -> None:
        pass


class no_grad(_NoArgMode):
    """Stop recording operations inside the block (or decorated function).

    >>> import plugrad as pg
    >>> x = pg.tensor([2.0], requires_grad=True)
    >>> with pg.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def _enter_mode(self) -> None:
        STATE.grad_enabled = False


class enable_grad(_NoArgMode):
    """Record operations again inside a `no_grad` block.

    >>> import plugrad as pg
    >>> x = pg.tensor([2.0], requires_grad=True)
    >>> with pg.no_grad():
    ...     with pg.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    def _enter_mode(self) -> None:
        STATE.grad_enabled = True


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off: as a plain call, a context manager or a decorator.

    >>> import plugrad as pg
    >>> _ = pg.set_grad_enabled(False)
    >>> pg.is_grad_enabled()
    False
    >>> _ = pg.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        # torch applies the mode at construction, so a plain call takes effect;
        # __enter__ records the state to restore as it was before this call
        self._before = (STATE.grad_enabled, STATE.inference)
        STATE.grad_enabled = self.mode

    def __enter__(self):
        self._saved = self._before
        STATE.grad_enabled = self.mode
        return None

    def _enter_mode(self) -> None:
        STATE.grad_enabled = self.mode

    def clone(self):
        saved = (STATE.grad_enabled, STATE.inference)
        ctx = set_grad_enabled(self.mode)
        ctx._before = saved
        return ctx

    def __call__(self, func):
        # used as @set_grad_enabled(False): undo the construction-time change
        STATE.grad_enabled, STATE.inference = self._before
        return super().__call__(func)


class inference_mode(_GradModeContext):
    """Like `no_grad`, for code that will never need gradients.

    `inference_mode(False)` leaves the current mode unchanged.
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def _enter_mode(self) -> None:
        if self.mode:
            STATE.grad_enabled = False
            STATE.inference = True

    def clone(self):
        return inference_mode(self.mode)
