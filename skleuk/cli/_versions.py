"""``skleuk version`` and ``skleuk show-versions``."""

from __future__ import annotations


def cmd_version(args):
    """``skleuk version``."""
    from .. import __version__

    print(f"skleuk {__version__}")
    return 0


def cmd_show_versions(args):
    """``skleuk show-versions``: versions of Python and the dependencies."""
    from ..utils import show_versions

    show_versions()
    return 0
