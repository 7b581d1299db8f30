"""The problem IR: immutable structure (frozen dataclasses) with SymPy for the mathematics."""

from .problem import (Condition, Constant, DataFile, Domain, Exact, Field, Input, Let, Observation, Param,
                      Periodic, Problem, Reference, Region, TargetRef, TimeAxis)

__all__ = [
    "Condition", "Constant", "DataFile", "Domain", "Exact", "Field", "Input", "Let", "Observation", "Param",
    "Periodic", "Problem", "Reference", "Region", "TargetRef", "TimeAxis",
]
