"""Anomaly detection: find the forward line behind a backward that went wrong.

While it is on, every recorded node keeps the traceback of the forward call
that created it, and the engine checks each backward formula's results: a
NaN or an infinity raises RuntimeError naming the op ("Function
'MulBackward0' returned nan values in its 0th output."), and any error in a
backward formula is reported with the forward traceback (as a UserWarning
and as a note on the exception). Off, it costs nothing: see graph.set_anomaly.

Torch checks for NaN only; plugrad also stops at infinities, which are just
as often the first sign of the bug (log(0), x / 0).
"""
from __future__ import annotations

import functools
import warnings

from ..graph import ANOMALY, set_anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly detection also checks backward results for NaN and inf."""
    return ANOMALY.check_nan


class detect_anomaly:
    """Turn anomaly detection on inside a `with` block or a decorated function.

    >>> import warnings, plugrad as pg
    >>> x = pg.tensor([0.0, 1.0], requires_grad=True)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     try:
    ...         with pg.autograd.detect_anomaly():
    ...             (x.sqrt() * 0.0).sum().backward()
    ...     except RuntimeError as err:
    ...         print(err)
    Function 'SqrtBackward0' returned nan values in its 0th output.

    A warning (and, on Python 3.11+, a note on the error) shows where the op
    was created in the forward pass.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self._saved = (ANOMALY.enabled, ANOMALY.check_nan)
        set_anomaly(True, self.check_nan)

    def __exit__(self, *_exc) -> None:
        set_anomaly(*self._saved)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = (ANOMALY.enabled, ANOMALY.check_nan)
            set_anomaly(True, self.check_nan)
            try:
                return func(*args, **kwargs)
            finally:
                set_anomaly(*previous)
        return wrapper


class set_detect_anomaly:
    """Switch anomaly detection on or off: a plain call, or a `with` block that restores it.

    >>> import plugrad as pg
    >>> _ = pg.autograd.set_detect_anomaly(True)
    >>> pg.autograd.is_anomaly_enabled()
    True
    >>> _ = pg.autograd.set_detect_anomaly(False)
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (ANOMALY.enabled, ANOMALY.check_nan)
        set_anomaly(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *_exc) -> None:
        set_anomaly(*self._previous)
