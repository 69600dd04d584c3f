"""Every custom action in the domain has an implementation in ``actions/`` and a
test here: ``tests/actions/test_<module>.py`` runs the class (``ClassName()``).
A new action comes with its tests, or this fails."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from rasa_sdk import Action

import actions
from tests.actions.support import DOMAIN

HERE = Path(__file__).resolve().parent


def implemented() -> dict[str, tuple[str, str]]:
    """Action name -> (module, class) of every action defined in ``actions/``."""
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and issubclass(cls, Action)
                and cls.__module__ == module.__name__
                and not inspect.isabstract(cls)
            ):
                found[cls().name()] = (info.name, cls.__name__)
    return found


IMPLEMENTED = implemented()
CUSTOM = [name for name in DOMAIN["actions"] if not name.startswith("utter_")]


def test_the_domain_and_the_actions_package_name_the_same_actions() -> None:
    assert len(CUSTOM) == len(set(CUSTOM)), "an action is listed twice in bot/domain"
    assert sorted(CUSTOM) == sorted(IMPLEMENTED)
    assert len(CUSTOM) >= 19


def test_every_action_is_run_by_the_test_module_of_its_module() -> None:
    untested = []
    for name in CUSTOM:
        module, cls = IMPLEMENTED[name]
        test_file = HERE / f"test_{module}.py"
        if not test_file.exists() or f"{cls}()" not in test_file.read_text("utf-8"):
            untested.append(
                f"{name} ({cls} in actions/{module}.py): no {cls}() in {test_file.name}"
            )
    assert untested == []
