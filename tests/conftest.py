import os

os.environ.setdefault("MPLBACKEND", "Agg")
# tiny dense solves: BLAS threads only add contention on a 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "standard")
