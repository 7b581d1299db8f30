"""Turn generated source into a live module, with tracebacks that show its lines.

The source is registered with ``linecache`` (as ``sympy.lambdify`` and
``torch.fx`` do) under a pseudo file name, so an error inside a residual
points at the generated line. The source is pdedsl's own output, built from
the checked IR with every identifier mangled and every literal repr'd; no
spec text is executed.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import types


def load_module(source: str, name: str = "pdedsl_generated") -> types.ModuleType:
    """The module for ``source``, registered in ``sys.modules`` under a name unique to its text.

    Registration lets tools that look functions' modules up by name (such as
    ``torch.compile``) find it; the digest in the name keeps modules of
    different specs (or versions of one spec) apart.
    """
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]
    unique = f"{name}_{digest}"
    if unique in sys.modules:
        return sys.modules[unique]
    filename = f"<pdedsl-generated {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(unique)
    module.__file__ = filename
    code = compile(source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 - pdedsl-generated code, see the module docstring
    sys.modules[unique] = module
    return module
