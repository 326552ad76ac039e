"""Lazy public names for packages (PEP 562): `import gru_bif` and its sub-packages load
only what a call uses, so that a script (or the command line) that only continues
equilibria does not pay for Diffrax, the periodic-orbit solvers or matplotlib."""

import importlib
import importlib.util


def lazy_exports(package: str, names: dict) -> tuple:
    """`(__getattr__, __dir__)` for a package whose public `names` map to
    `(module, attribute)` (attribute `None`: the module itself), imported on first
    use and then kept in the package's namespace."""
    import sys

    def __getattr__(name):
        if name in names:
            module, attr = names[name]
        elif importlib.util.find_spec(f"{package}.{name}") is not None:
            module, attr = f".{name}", None  # a sub-module not imported yet
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        mod = importlib.import_module(module, package)
        value = mod if attr is None else getattr(mod, attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
