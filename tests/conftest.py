import os

os.environ.setdefault("MPLBACKEND", "Agg")
# tiny dense solves: BLAS threads only add contention on a 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# CLI tests call `gru_bif.cli.main` in this process: keep them from switching on JAX's
# persistent compilation cache for the rest of the session (jaxlib 0.10.2 was seen to
# crash serialising one of the later tests' executables into it).
os.environ["GRU_BIF_NO_CACHE"] = "1"

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "standard")
