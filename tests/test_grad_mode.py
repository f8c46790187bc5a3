"""Grad modes: context managers, decorators, plain calls and thread-locality."""
from __future__ import annotations

import threading

import plugrad as pg


def _records() -> bool:
    return (pg.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_no_grad_block_records_nothing():
    with pg.no_grad():
        assert not pg.is_grad_enabled() and not _records()
    assert pg.is_grad_enabled() and _records()


def test_enable_grad_inside_no_grad():
    with pg.no_grad():
        with pg.enable_grad():
            assert _records()
        assert not _records()


def test_decorators():
    @pg.no_grad()
    def off():
        return _records()

    @pg.enable_grad()
    def on():
        return _records()

    assert off() is False
    with pg.no_grad():
        assert on() is True
    assert pg.is_grad_enabled()


def test_bare_decorator_without_parentheses():
    @pg.no_grad
    def off():
        return _records()

    assert off() is False and pg.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    pg.set_grad_enabled(False)
    try:
        assert not _records()
    finally:
        pg.set_grad_enabled(True)
    with pg.set_grad_enabled(False):
        assert not _records()
    assert _records()

    @pg.set_grad_enabled(False)
    def off():
        return _records()

    assert pg.is_grad_enabled()
    assert off() is False and pg.is_grad_enabled()


def test_inference_mode():
    with pg.inference_mode():
        assert pg.is_inference_mode_enabled() and not _records()
    assert not pg.is_inference_mode_enabled()
    with pg.inference_mode(False):
        assert _records()


def test_mode_is_restored_when_the_block_raises():
    try:
        with pg.no_grad():
            raise KeyError
    except KeyError:
        pass
    assert pg.is_grad_enabled()


def test_grad_mode_is_thread_local_and_new_threads_start_enabled():
    seen = {}

    def worker():
        seen["enabled"] = pg.is_grad_enabled()
        seen["records"] = _records()

    with pg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not pg.is_grad_enabled()
    assert seen == {"enabled": True, "records": True}


def test_no_grad_in_a_thread_does_not_leak_out():
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with pg.no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    try:
        assert pg.is_grad_enabled() and _records()
    finally:
        release.set()
        t.join()


def test_autograd_namespace_exports_the_modes():
    assert pg.autograd.no_grad is pg.no_grad
