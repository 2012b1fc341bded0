"""Shared test configuration (hypothesis profiles, headless matplotlib)."""

import skleuk.conftest  # noqa: F401
