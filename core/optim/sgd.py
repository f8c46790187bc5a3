"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from ..backend import written
from .optimizer import Optimizer, add_into, check_number, new_state

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with torch's update rule. For each parameter p with gradient g:

        g = g + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov), else buf      (only when momentum != 0)
        p = p - lr * g

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None) -> None:
        check_number("learning rate", lr)
        check_number("momentum value", momentum)
        check_number("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if differentiable or fused:
            raise NotImplementedError("SGD: differentiable and fused updates are not supported")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], \
            group["maximize"]
        states = self.state
        for p in group["params"]:
            grad = p._grad  # (the attribute behind .grad: this loop runs every step)
            if grad is None:
                continue
            k = p.backend
            g = grad._array
            if maximize:
                g = k.neg(g)
            if weight_decay:
                g = k.add(g, k.mul(p._array, weight_decay))
            if momentum:
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = new_state(k.copy(g), p)
                else:
                    # buf = momentum * buf + (1 - dampening) * g, in buf's own memory
                    scaled = g if dampening == 0 else k.mul(g, 1 - dampening)
                    buf._array = written(k.mul_into(buf._array, momentum), buf._array)
                    buf._array = written(k.add_into(buf._array, scaled), buf._array)
                g = k.add(g, k.mul(buf._array, momentum)) if nesterov else buf._array
            add_into(p, k.mul(g, -lr))
