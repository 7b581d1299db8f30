"""Solver backends behind one interface, registered by name."""

from . import pinn  # noqa: F401 - registers "pinn"
from .base import Backend, BackendError, available, create, register

__all__ = ["Backend", "BackendError", "available", "create", "register"]
