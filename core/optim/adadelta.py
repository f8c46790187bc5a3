"""Adadelta: steps scaled by the ratio of running RMS of past steps and of gradients."""
from __future__ import annotations

from .optimizer import Optimizer, add_into, check_number, check_options, zeros_state

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with torch's update rule. For each parameter p with gradient g:

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    The state of each parameter is "step", "square_avg" (v) and "acc_delta" (u).

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adadelta([w], eps=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.6877, -0.6877], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_number("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_number("epsilon value", eps)
        check_number("weight_decay value", weight_decay)
        check_options("Adadelta", capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        states = self.state
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            k = p.backend
            g = grad._array
            if maximize:
                g = k.neg(g)
            state = states.get(p)
            if state is None:
                state = states[p] = {"step": 0, "square_avg": zeros_state(p),
                                     "acc_delta": zeros_state(p)}
            state["step"] += 1
            if weight_decay:
                g = k.add(g, k.mul(p._array, weight_decay))
            v, u = state["square_avg"], state["acc_delta"]
            v._array = k.add(k.mul(v._array, rho), k.mul(k.mul(g, 1 - rho), g))
            std = k.sqrt(k.add(v._array, eps))
            delta = k.mul(k.div(k.sqrt(k.add(u._array, eps)), std), g)
            u._array = k.add(k.mul(u._array, rho), k.mul(k.mul(delta, 1 - rho), delta))
            add_into(p, k.mul(delta, -lr))
