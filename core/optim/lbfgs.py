"""L-BFGS: quasi-Newton steps from a short history of gradient changes, as in torch.

All the parameters are handled as one flat vector (the concatenation of their
flattened values); the work is done on backend arrays under no_grad, with the
scalars (dot products, step lengths) as Python floats.
"""
from __future__ import annotations

import math

from ..grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, add_into, check_number, new_state, write_into

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """Limited-memory BFGS with torch's algorithm; `step(closure)` needs the closure.

    Each step runs up to `max_iter` iterations (and `max_eval` evaluations of
    the closure): the direction comes from the last `history_size` pairs of
    parameter and gradient changes, the step length is `lr` (the first ever:
    min(1, 1 / sum|g|) * lr) or, with line_search_fn="strong_wolfe", found by a
    line search meeting the strong Wolfe conditions. It stops early when the
    largest gradient entry is below `tolerance_grad`, or the loss or the
    parameters change by less than `tolerance_change`. It takes one parameter
    group only; its state lives under the first parameter, as in torch.

    >>> import plugrad as pg
    >>> w = pg.tensor([3.0, -2.0], dtype=pg.float64, requires_grad=True)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - 1.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure).item()     # the loss before the step
    13.0
    >>> [round(v, 6) for v in w.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        check_number("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -- the parameters as one flat vector ---------------------------------------------------
    def _flat_grad(self):
        k = self._params[0].backend
        parts = []
        for p in self._params:
            n = p.numel()
            if p._grad is None:
                parts.append(k.full((n,), 0, p.dtype))
            else:
                parts.append(k.reshape(p._grad._array, (n,)))
        return k.concat(parts, 0)

    def _add_grad(self, step_size: float, update) -> None:
        """p += step_size * update[p's slice], for each parameter."""
        k = self._params[0].backend
        offset = 0
        for p in self._params:
            n = p.numel()
            part = k.getitem(update, (slice(offset, offset + n),))
            add_into(p, k.reshape(k.mul(part, step_size), tuple(p.shape)))
            offset += n

    def _directional_evaluate(self, closure, x: list, t: float, d):
        """(loss, flat gradient) at parameters x + t * d; the parameters are back at x after."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            write_into(p, saved)
        return loss, flat_grad

    def step(self, closure):  # noqa: C901 (torch's algorithm, kept in one piece)
        """Run up to max_iter L-BFGS iterations; returns the loss closure() gave first.

        `closure` clears the gradients, computes the loss, calls backward and
        returns the loss (it is called with grad enabled).
        """
        self._opt_called = True

        def evaluate():
            with enable_grad():
                return closure()

        with no_grad():
            return self._step(evaluate)

    def _step(self, closure):  # noqa: C901
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        first = self._params[0]
        k = first.backend
        state = self.state.setdefault(first, {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _abs_max(k, flat_grad) <= tolerance_grad:
            return orig_loss

        d = _array(state.get("d"))
        t = state.get("t")
        old_dirs = [_array(y) for y in state.get("old_dirs") or ()]
        old_stps = [_array(s) for s in state.get("old_stps") or ()]
        ro = list(state.get("ro") or ())
        h_diag = state.get("H_diag")
        prev_flat_grad = _array(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction
            if state["n_iter"] == 1:
                d = k.neg(flat_grad)
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = k.sub(flat_grad, prev_flat_grad)
                s = k.mul(d, t)
                ys = _dot(k, y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _dot(k, y, y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = k.neg(flat_grad)
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = _dot(k, old_stps[i], q) * ro[i]
                    q = k.add(q, k.mul(old_dirs[i], -al[i]))
                d = k.mul(q, h_diag)
                for i in range(len(old_dirs)):
                    be_i = _dot(k, old_dirs[i], d) * ro[i]
                    d = k.add(d, k.mul(old_stps[i], al[i] - be_i))
            prev_flat_grad = k.copy(flat_grad)
            prev_loss = loss
            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / _abs_sum(k, flat_grad)) * lr
            else:
                t = lr
            gtd = _dot(k, flat_grad, d)
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [k.copy(p._array) for p in self._params]

                def obj_func(x, step, direction):
                    return self._directional_evaluate(closure, x, step, direction)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    k, obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = _abs_max(k, flat_grad) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = _abs_max(k, flat_grad) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            # the stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _abs_max(k, k.mul(d, t)) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _tensor(d, first)
        state["t"] = t
        state["old_dirs"] = [_tensor(y, first) for y in old_dirs]
        state["old_stps"] = [_tensor(s, first) for s in old_stps]
        state["ro"] = ro
        state["H_diag"] = h_diag
        state["prev_flat_grad"] = _tensor(prev_flat_grad, first)
        state["prev_loss"] = prev_loss
        return orig_loss


# -- flat vectors and numbers --------------------------------------------------------------------
def _dot(k, a, b) -> float:
    return float(k.tolist(k.sum(k.mul(a, b), None, False)))


def _abs_max(k, a) -> float:
    return float(k.tolist(k.max(k.abs(a), None, False)))


def _abs_sum(k, a) -> float:
    return float(k.tolist(k.sum(k.abs(a), None, False)))


def _array(t):
    """The array of a state tensor (None stays None)."""
    return None if t is None else t._array


def _tensor(data, like):
    return None if data is None else new_state(data, like)


# -- the line search -------------------------------------------------------------------------------
def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimum of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2), in bounds."""
    if bounds is not None:
        low, high = bounds
    else:
        low, high = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, low), high)
    return (low + high) / 2.0


def _strong_wolfe(k, obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9,  # noqa: C901
                  tolerance_change=1e-9, max_ls=25):
    """A step length t along d meeting the strong Wolfe conditions (torch's search).

    Returns (loss, flat gradient, t, evaluations made).
    """
    d_norm = _abs_max(k, d)
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(k, g_new, d)

    # bracket an interval holding a point that meets the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(k, g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # too close to an end of the bracket (twice, or outside it): move 10% inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(k, g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the lowest point: new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
