"""Tests for the package configuration: set_config, get_config, config_context."""

import threading

import pytest

import skleuk
from skleuk import config_context, get_config, set_config


@pytest.fixture(autouse=True)
def _restore_config():
    old = get_config()
    yield
    set_config(**old)


def test_default_and_exports():
    assert get_config() == {"opencv": "auto"}
    assert {"set_config", "get_config", "config_context"} <= set(skleuk.__all__)


def test_get_config_returns_a_copy():
    config = get_config()
    config["opencv"] = False
    assert get_config()["opencv"] == "auto"


@pytest.mark.parametrize("value", ["auto", True, False])
def test_set_config_sets_and_none_keeps(value):
    set_config(opencv=value)
    assert get_config()["opencv"] == value
    assert type(get_config()["opencv"]) is type(value)
    set_config()
    set_config(opencv=None)
    assert get_config()["opencv"] == value


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", 2.0])
def test_invalid_value_is_rejected(value):
    with pytest.raises(ValueError, match="'opencv' option must be 'auto', True or"):
        set_config(opencv=value)
    with pytest.raises(ValueError, match="opencv"):
        with config_context(opencv=value):
            pass  # pragma: no cover
    assert get_config()["opencv"] == "auto"


def test_config_context_restores_also_on_error():
    with config_context(opencv=False):
        assert get_config()["opencv"] is False
        with config_context(opencv=True):
            assert get_config()["opencv"] is True
        assert get_config()["opencv"] is False
        with config_context():  # nothing changed
            assert get_config()["opencv"] is False
    assert get_config()["opencv"] == "auto"
    with pytest.raises(RuntimeError), config_context(opencv=False):
        raise RuntimeError
    assert get_config()["opencv"] == "auto"


def test_config_context_is_thread_local():
    # A context in one thread does not change another thread's setting.
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def inside():
        with config_context(opencv=False):
            entered.set()
            release.wait(10)
            seen["inside"] = get_config()["opencv"]

    def other():
        entered.wait(10)
        seen["other"] = get_config()["opencv"]
        release.set()

    threads = [threading.Thread(target=inside), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"inside": False, "other": "auto"}
    assert get_config()["opencv"] == "auto"


def test_set_config_reaches_new_threads():
    set_config(opencv=False)
    seen = []
    t = threading.Thread(target=lambda: seen.append(get_config()["opencv"]))
    t.start()
    t.join(10)
    assert seen == [False]
