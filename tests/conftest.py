import os

os.environ.setdefault("MPLBACKEND", "Agg")
# tiny dense solves: BLAS threads only add contention on a 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# CLI tests call `gru_bif.cli.main` in this process: keep them from switching on JAX's
# persistent compilation cache for the rest of the session (jaxlib 0.10.2 was seen to
# crash serialising one of the later tests' executables into it).
os.environ["GRU_BIF_NO_CACHE"] = "1"
# No warm programs (a system called again, compiled once more in the background): the
# suite calls hundreds of systems twice, and background compilations on a 2-core
# machine would only make its timing depend on load. `test_programs` switches them on
# for the test of warm programs.
os.environ["GRU_BIF_WARM"] = "0"

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "standard")

import gc

import pytest

# Every compiled XLA CPU program holds ~25 memory mappings until it is freed. The suite
# compiles thousands of programs in one process; past the kernel's vm.max_map_count
# (65530 by default) LLVM's next allocation fails and the process dies with a
# segmentation fault inside `backend_compile_and_load`. Dropping JAX's caches frees
# the executables and their mappings; do it whenever the process holds many of them.
_MAPS_LIMIT = 20000


def _map_count():
    try:
        with open("/proc/self/maps", "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:  # not Linux: no such limit to watch
        return 0


@pytest.fixture(autouse=True)
def _bounded_compiled_programs():
    yield
    if _map_count() > _MAPS_LIMIT:
        from gru_bif import _programs

        jax.clear_caches()
        _programs.clear_program_cache(disk=False)  # the engine's own programs too
        gc.collect()
