"""Why a run or an input cannot be used: reported as one ``error:`` line (exit 2)."""

from __future__ import annotations


class InferenceError(ValueError):
    """A run, an option or an input file that sampling, walks or translation cannot use."""
