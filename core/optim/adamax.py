"""Adamax: Adam with the infinity norm of past gradients in place of their RMS."""
from __future__ import annotations

from .optimizer import Optimizer, add_into, check_number, check_options, lerp, zeros_state

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax with torch's update rule. For each parameter p with gradient g, at step t:

        g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    The state of each parameter is "step", "exp_avg" (m) and "exp_inf" (u).

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_number("learning rate", lr)
        check_number("epsilon value", eps)
        check_number("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_number("beta parameter at index 1", betas[1], 0.0, 1.0)
        check_number("weight_decay value", weight_decay)
        check_options("Adamax", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        maximize = group["maximize"]
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
                state = states[p] = {"step": 0, "exp_avg": zeros_state(p),
                                     "exp_inf": zeros_state(p)}
            state["step"] = step = state["step"] + 1
            if weight_decay:
                g = k.add(g, k.mul(p._array, weight_decay))
            m, u = state["exp_avg"], state["exp_inf"]
            m._array = lerp(k, m._array, g, 1 - beta1)
            u._array = k.maximum(k.mul(u._array, beta2), k.add(k.abs(g), eps))
            clr = lr / (1 - beta1 ** step)
            add_into(p, k.div(k.mul(m._array, -clr), u._array))
