"""Shared test set-up: a headless matplotlib, and the tests folder importable (simulation.py)."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports pyplot
