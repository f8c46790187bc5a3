"""RMSprop: steps divided by a running root mean square of the gradient."""
from __future__ import annotations

from .optimizer import Optimizer, add_into, check_number, check_options, lerp, zeros_state

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with torch's update rule. For each parameter p with gradient g:

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - a * a) + eps with centered (a = running mean of g), else sqrt(v) + eps
        buf = momentum * buf + g / avg; p = p - lr * buf      (momentum > 0)
        p = p - lr * g / avg                                   (otherwise)

    The state of each parameter is "step", "square_avg" and, as the options ask,
    "momentum_buffer" and "grad_avg".

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_number("learning rate", lr)
        check_number("epsilon value", eps)
        check_number("momentum value", momentum)
        check_number("weight_decay value", weight_decay)
        check_number("alpha value", alpha)
        check_options("RMSprop", capturable, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        centered, maximize = group["centered"], group["maximize"]
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
                state = states[p] = {"step": 0, "square_avg": zeros_state(p)}
                if momentum > 0:
                    state["momentum_buffer"] = zeros_state(p)
                if centered:
                    state["grad_avg"] = zeros_state(p)
            state["step"] += 1
            if weight_decay:
                g = k.add(g, k.mul(p._array, weight_decay))
            v = state["square_avg"]
            v._array = k.add(k.mul(v._array, alpha), k.mul(k.mul(g, 1 - alpha), g))
            if centered:
                a = state["grad_avg"]
                a._array = lerp(k, a._array, g, 1 - alpha)
                avg = k.sqrt(k.sub(v._array, k.mul(a._array, a._array)))
            else:
                avg = k.sqrt(v._array)
            avg = k.add(avg, eps)
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf._array = k.add(k.mul(buf._array, momentum), k.div(g, avg))
                add_into(p, k.mul(buf._array, -lr))
            else:
                add_into(p, k.div(k.mul(g, -lr), avg))
