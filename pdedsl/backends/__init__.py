"""Solver backends behind one interface, registered by name."""

from . import deeponet, dgno, fno, pinn  # noqa: F401 - register "deeponet", "multionet", "dgno", "fno", "pinn"
from .base import (Backend, BackendError, BackendOptionError, activations, available, create, is_operator,
                   new_run_options, option_kinds, register)

__all__ = ["Backend", "BackendError", "BackendOptionError", "activations", "available", "create", "is_operator",
           "new_run_options", "option_kinds", "register"]
