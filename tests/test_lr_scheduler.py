"""plugrad.optim.lr_scheduler: every schedule's lr sequence against torch's, state dicts,
errors and warnings."""
from __future__ import annotations

import doctest
import math
import warnings

import plugrad as pg
import pytest
from plugrad.optim import lr_scheduler

STEPS = 30


def _optimizer(lib, name="SGD", **options):
    groups = [{"params": [lib.zeros(2, requires_grad=True)]},
              {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3}]
    if name == "SGD":
        options.setdefault("momentum", 0.9)
    return getattr(lib.optim, name)(groups, lr=0.1, **options)


# (name, arguments after the optimizer); "sub" builds the inner schedulers of the nested ones
CASES = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.7, total_iters=12)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=9)),
    ("PolynomialLR", dict(total_iters=20, power=2.0)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch + 0.01 * epoch)),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.9 if epoch % 2 else 1.01)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=STEPS)),
    ("OneCycleLR", dict(max_lr=[1.0, 2.0], epochs=3, steps_per_epoch=10,
                        anneal_strategy="linear", pct_start=0.25, div_factor=10.0)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS + 1, three_phase=True,
                        base_momentum=0.8, max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS, cycle_momentum=False)),
]


def _sequence(lib, name, options, opt_name="SGD"):
    opt = _optimizer(lib, opt_name)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **options)
    seen = [list(sched.get_last_lr())]
    momenta = []
    for _ in range(STEPS):
        opt.step()
        sched.step()
        seen.append(list(sched.get_last_lr()))
        group = opt.param_groups[0]
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
    return seen, momenta, opt.param_groups


def _close(a, b) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-13, abs_tol=1e-15)
               for row_a, row_b in zip(a, b) for x, y in zip(row_a, row_b))


@pytest.mark.parametrize("name, options", CASES)
def test_lr_sequence_matches_torch(name, options):
    torch = pytest.importorskip("torch")
    ours, our_momenta, our_groups = _sequence(pg, name, options)
    theirs, their_momenta, their_groups = _sequence(torch, name, options)
    assert len(ours) == len(theirs) == STEPS + 1
    assert _close(ours, theirs), (ours, theirs)
    assert _close([our_momenta], [their_momenta])
    for a, b in zip(our_groups, their_groups):
        assert {k for k in a if k != "params"} == {k for k in b if k != "params"}
        assert math.isclose(a["initial_lr"], b["initial_lr"])


def test_one_cycle_cycles_adam_beta1_as_torch():
    torch = pytest.importorskip("torch")
    options = dict(max_lr=0.01, total_steps=STEPS)
    ours = _sequence(pg, "OneCycleLR", options, "Adam")
    theirs = _sequence(torch, "OneCycleLR", options, "Adam")
    assert _close(ours[0], theirs[0]) and _close([ours[1]], [theirs[1]])
    assert ours[2][0]["betas"][1] == 0.999


def _nested(lib, kind):
    opt = _optimizer(lib)
    s = lib.optim.lr_scheduler
    if kind == "sequential":
        inner = [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                 s.CosineAnnealingLR(opt, T_max=8), s.StepLR(opt, step_size=3, gamma=0.5)]
        return opt, s.SequentialLR(opt, inner, milestones=[5, 15])
    return opt, s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=4),
                                    s.ExponentialLR(opt, gamma=0.9),
                                    s.MultiStepLR(opt, milestones=[6, 12])])


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_nested_schedulers_match_torch(kind):
    torch = pytest.importorskip("torch")
    runs = []
    for lib in (pg, torch):
        opt, sched = _nested(lib, kind)
        seen = [list(sched.get_last_lr())]
        for _ in range(STEPS):
            opt.step()
            sched.step()
            seen.append(list(sched.get_last_lr()))
        runs.append(seen)
    assert _close(*runs), runs


@pytest.mark.parametrize("options", [
    dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
    dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.02, 0.05]),
    dict(mode="max", threshold_mode="abs", threshold=0.5, patience=1, eps=0.05)])
def test_reduce_on_plateau_matches_torch(options):
    torch = pytest.importorskip("torch")
    metrics = [5.0, 4.0, 4.0, 3.999, 3.5, 3.5, 3.6, 3.7, 2.0, 2.0, 2.0, 2.0, 2.1, 1.0, 1.0,
               1.0, 1.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]
    runs = []
    for lib in (pg, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        seen = []
        for m in metrics:
            opt.step()
            sched.step(m)
            seen.append(list(sched.get_last_lr()) + [sched.num_bad_epochs, sched.best])
        runs.append(seen)
    assert _close(*runs), runs


@pytest.mark.parametrize("name, options", [c for c in CASES if "lambda" not in c[0].lower()])
def test_state_dict_round_trip(name, options):
    straight, _, _ = _sequence(pg, name, options)
    opt = _optimizer(pg)
    sched = getattr(lr_scheduler, name)(opt, **options)
    for _ in range(10):
        opt.step()
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 10

    opt2 = _optimizer(pg)     # torch's recipe: make both, then load both
    sched2 = getattr(lr_scheduler, name)(opt2, **options)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == straight[10]
    rest = []
    for _ in range(STEPS - 10):
        opt2.step()
        sched2.step()
        rest.append(list(sched2.get_last_lr()))
    assert rest == straight[11:]


def test_lambda_state_dict_keeps_callable_objects_state_only():
    class Rate:
        def __init__(self):
            self.scale = 2.0

        def __call__(self, epoch):
            return self.scale

    opt = _optimizer(pg)
    rate = Rate()
    sched = lr_scheduler.LambdaLR(opt, [rate, lambda epoch: 1.0])
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"scale": 2.0}, None]
    other = Rate()
    other.scale = 5.0
    sched2 = lr_scheduler.LambdaLR(opt, [other, lambda epoch: 1.0])
    sched2.load_state_dict(saved)
    assert other.scale == 2.0


def test_initial_lr_and_base_lrs():
    opt = _optimizer(pg)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3] == sched.base_lrs
    assert sched.last_epoch == 0
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(pg), step_size=2, last_epoch=3)
    resumed = lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    assert resumed.last_epoch == 4


def test_warnings_match_torch():
    opt = _optimizer(pg)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.1 ** 2, 0.3 * 0.1 ** 2])
    opt = _optimizer(pg)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_closed_form_with_an_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    runs = []
    for lib in (pg, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 7, 12, 4):
                opt.step()
                sched.step(epoch)
                seen.append(list(sched.get_last_lr()))
        runs.append(seen)
    assert _close(*runs)


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    bad = [("LinearLR", dict(start_factor=0)), ("LinearLR", dict(end_factor=1.5)),
           ("ConstantLR", dict(factor=2.0)), ("ReduceLROnPlateau", dict(factor=1.0)),
           ("ReduceLROnPlateau", dict(mode="middle")),
           ("ReduceLROnPlateau", dict(threshold_mode="both")),
           ("ReduceLROnPlateau", dict(min_lr=[0.1])),
           ("OneCycleLR", dict(max_lr=1.0)), ("OneCycleLR", dict(max_lr=1.0, total_steps=0)),
           ("OneCycleLR", dict(max_lr=1.0, total_steps=5, pct_start=1)),
           ("OneCycleLR", dict(max_lr=1.0, total_steps=5, anneal_strategy="exp")),
           ("OneCycleLR", dict(max_lr=[1.0], total_steps=5)),
           ("LambdaLR", dict(lr_lambda=[lambda e: 1.0])),
           ("MultiplicativeLR", dict(lr_lambda=[1.0, 2.0]))]
    for name, options in bad:
        with pytest.raises((ValueError, TypeError)) as theirs:
            getattr(torch.optim.lr_scheduler, name)(_optimizer(torch), **options)
        with pytest.raises(theirs.type) as ours:
            getattr(lr_scheduler, name)(_optimizer(pg), **options)
        assert str(ours.value) == str(theirs.value), name
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    opt = _optimizer(pg, "Adagrad")
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    opt = _optimizer(pg)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    opt.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(opt, [plateau, lr_scheduler.StepLR(opt, 2)], [2])
    with pytest.raises(ValueError, match="number of milestone points"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], [2])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, 2),
                                       lr_scheduler.StepLR(_optimizer(pg), 2)])


def test_docstring_examples():
    result = doctest.testmod(lr_scheduler, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 20
