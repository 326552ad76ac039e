"""Lazy public names for packages (PEP 562): `import gru_bif` and its sub-packages load
only what a call uses, so that a script (or the command line) that only continues
equilibria does not pay for Diffrax, the periodic-orbit solvers or matplotlib."""

import importlib
import importlib.util
import sys
import types


def lazy_exports(package: str, names: dict) -> tuple:
    """`(__getattr__, __dir__)` for a package whose public `names` map to
    `(module, attribute)` (attribute `None`: the module itself), imported on first
    use and then kept in the package's namespace."""

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

    # A public function named like its sub-module (`gru_bif.simulate`,
    # `gru_bif.periodic.lpc_curve`): when anything imports the sub-module, the import
    # system sets the package attribute to the module. Ignore that, so the name keeps
    # meaning the function (as it did when the package imported it eagerly); the module
    # stays reachable through `sys.modules` and `from package.module import ...`.
    guarded = frozenset(n for n, (_, attr) in names.items() if attr is not None)
    module = sys.modules[package]

    class _Package(type(module)):
        def __setattr__(self, name, value):
            if name in guarded and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    module.__class__ = _Package
    return __getattr__, __dir__
