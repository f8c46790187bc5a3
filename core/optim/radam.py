"""RAdam: Adam whose adaptive step is switched on once its variance is tractable."""
from __future__ import annotations

from .optimizer import (
    Optimizer,
    add_into,
    check_number,
    check_options,
    lerp,
    scale_into,
    zeros_state,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam with torch's update rule. For each parameter p with gradient g, at step t:

        g = g + weight_decay * p   (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        m_hat = m / (1 - beta1**t)
        rho_t > 5: p = p - lr * m_hat * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t, with
                   r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise: p = p - lr * m_hat

    The state of each parameter is "step", "exp_avg" (m) and "exp_avg_sq" (v).

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = RAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -0.8000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_number("learning rate", lr)
        check_number("epsilon value", eps)
        check_number("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_number("beta parameter at index 1", betas[1], 0.0, 1.0)
        check_number("weight_decay value", weight_decay)
        check_options("RAdam", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
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
                                     "exp_avg_sq": zeros_state(p)}
            state["step"] = step = state["step"] + 1
            if weight_decay:
                if decoupled:
                    scale_into(p, 1 - lr * weight_decay)
                else:
                    g = k.add(g, k.mul(p._array, weight_decay))
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m._array = lerp(k, m._array, g, 1 - beta1)
            v._array = k.add(k.mul(v._array, beta2), k.mul(k.mul(g, 1 - beta2), g))
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_ = k.mul(k.div(m._array, bias_correction1), lr)
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf /
                        ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = k.div(bias_correction2 ** 0.5, k.add(k.sqrt(v._array), eps))
                step_ = k.mul(k.mul(step_, adaptive), rect)
            add_into(p, k.neg(step_))
