"""Local development and `make run`: base settings as they are (DEBUG only when asked)."""

from .base import *  # noqa: F403
