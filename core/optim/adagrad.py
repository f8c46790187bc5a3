"""Adagrad: steps divided by the root of the sum of all squared gradients so far."""
from __future__ import annotations

from .optimizer import Optimizer, add_into, check_number, check_options, zeros_state

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with torch's update rule. For each parameter p with gradient g, at step t:

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                       (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    As in torch, the constructor makes the state ("step", "sum") of every
    parameter it is given.

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.5000, -0.5000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        check_number("learning rate", lr)
        check_number("lr_decay value", lr_decay)
        check_number("weight_decay value", weight_decay)
        check_number("initial_accumulator_value value", initial_accumulator_value)
        check_number("epsilon value", eps)
        check_options("Adagrad", differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        start = initial_accumulator_value
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": zeros_state(p, start)}

    def _update(self, group: dict) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
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
            if state is None:  # a group added later: torch starts it from the defaults
                state = states[p] = {
                    "step": 0, "sum": zeros_state(p, self.defaults["initial_accumulator_value"])}
            state["step"] = step = state["step"] + 1
            if weight_decay:
                g = k.add(g, k.mul(p._array, weight_decay))
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]
            s._array = k.add(s._array, k.mul(g, g))
            add_into(p, k.div(k.mul(g, -clr), k.add(k.sqrt(s._array), eps)))
