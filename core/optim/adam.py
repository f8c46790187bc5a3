"""Adam and AdamW: steps scaled by running averages of the gradient and its square."""
from __future__ import annotations

import math

from .optimizer import Optimizer, add_into, check_number, lerp, new_state, scale_into

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam with torch's update rule. For each parameter p with gradient g, at step t:

        g = g + weight_decay * p        (AdamW instead: p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) with amsgrad, else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    The state of each parameter is "step" (an int), "exp_avg" (m), "exp_avg_sq"
    (v) and, with amsgrad, "max_exp_avg_sq".

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False) -> None:
        check_number("learning rate", lr)
        check_number("epsilon value", eps)
        check_number("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_number("beta parameter at index 1", betas[1], 0.0, 1.0)
        check_number("weight_decay value", weight_decay)
        if capturable or differentiable or fused:
            raise NotImplementedError(f"{type(self).__name__}: capturable, differentiable and "
                                      f"fused updates are not supported")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            k = p.backend
            g = p.grad._array
            if maximize:
                g = k.neg(g)
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = 0
                state["exp_avg"] = new_state(k.full(tuple(p.shape), 0, p.dtype), p)
                state["exp_avg_sq"] = new_state(k.full(tuple(p.shape), 0, p.dtype), p)
                if amsgrad:
                    state["max_exp_avg_sq"] = new_state(k.full(tuple(p.shape), 0, p.dtype), p)
            state["step"] = step = state["step"] + 1
            if weight_decay:
                if decoupled:
                    scale_into(p, 1 - lr * weight_decay)
                else:
                    g = k.add(g, k.mul(p._array, weight_decay))
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m._array = lerp(k, m._array, g, 1 - beta1)
            v._array = k.add(k.mul(v._array, beta2), k.mul(k.mul(g, 1 - beta2), g))
            if amsgrad:
                top = state["max_exp_avg_sq"]
                top._array = k.maximum(top._array, v._array)
                v_hat = top._array
            else:
                v_hat = v._array
            step_size = lr / (1 - beta1 ** step)
            denom = k.add(k.div(k.sqrt(v_hat), math.sqrt(1 - beta2 ** step)), eps)
            add_into(p, k.div(k.mul(m._array, -step_size), denom))


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step.

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8500], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach=None, capturable: bool = False, differentiable: bool = False,
                 fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decays decoupled, as in torch
            group["decoupled_weight_decay"] = True
