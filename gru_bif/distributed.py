"""Runs beyond one machine: JAX's multi-controller runtime (`jax.distributed`), a global
device mesh, results gathered on every process, and chunked runs that write each
finished chunk to disk and resume after a kill.

The model is JAX's own: the same program runs on every host (one process per host, or
per GPU), `initialize()` connects them, `global_mesh()` spans every process's devices,
and the batched entry points (`gru_bif.batched`, `gru_bif.census.census` /
`analyse_networks`, `gru_bif.attractors`) split their batch over that mesh unchanged.
Inputs must be the same on every process (build them from a seed); outputs come back
as NumPy arrays, identical on every process. No scheduler, sockets or file formats of
our own beyond the chunk files.

Results do not depend on how many processes ran: every item draws its randomness from
its own key (`item_keys(key, start, stop)`: `jax.random.fold_in(key, i)` for item `i`),
and every item is computed independently of the others.

!!! example

    ```python
    import gru_bif
    from gru_bif import distributed

    distributed.initialize()            # SLURM / Open MPI / JAX_* variables, or no-op
    table = gru_bif.census.census(num_networks=100_000, mesh=distributed.global_mesh(),
                                  checkpoint_dir="census_run")  # resumable
    ```

On CPU hosts, collectives need the gloo implementation, chosen by the caller before
`initialize()` (library functions never change JAX's configuration):
`jax.config.update("jax_cpu_collectives_implementation", "gloo")` — the `gru-bif`
command does this itself.
"""

import hashlib
import json
import os
import pathlib
from collections.abc import Callable

import jax
import numpy as np
from jax.sharding import Mesh

from ._io import atomic_path, read_json, write_atomic

__all__ = [
    "cluster_environment", "gather", "global_mesh", "initialize", "is_multiprocess",
    "item_keys", "run_chunks",
]

_MANIFEST = "manifest.json"
_FORMAT = "gru_bif.chunks"


def cluster_environment() -> "dict | None":
    """The multi-process setting found in the environment, or `None` (one process):

    - `GRU_BIF_COORDINATOR`, `GRU_BIF_NUM_PROCESSES`, `GRU_BIF_PROCESS_ID`, or JAX's own
      `JAX_COORDINATOR_ADDRESS`, `JAX_NUM_PROCESSES`, `JAX_PROCESS_ID`: explicit;
    - SLURM (`SLURM_JOB_ID` with `SLURM_NTASKS` > 1) or Open MPI (`OMPI_COMM_WORLD_SIZE`
      > 1): left to JAX's cluster auto-detection (`{"auto": "slurm"}` / `"ompi"`)."""
    env = os.environ
    for prefix in ("GRU_BIF_", "JAX_"):
        addr = env.get(prefix + "COORDINATOR_ADDRESS") or env.get(prefix + "COORDINATOR")
        if addr:
            try:
                n = int(env[prefix + "NUM_PROCESSES"])
                pid = int(env[prefix + "PROCESS_ID"])
            except (KeyError, ValueError) as e:
                raise ValueError(
                    f"{prefix}COORDINATOR_ADDRESS is set ({addr!r}) but "
                    f"{prefix}NUM_PROCESSES / {prefix}PROCESS_ID are missing or not "
                    "integers; set all three (or none)."
                ) from e
            return {"coordinator_address": addr, "num_processes": n, "process_id": pid}
    if env.get("SLURM_JOB_ID") and int(env.get("SLURM_NTASKS", "1") or 1) > 1:
        return {"auto": "slurm"}
    if int(env.get("OMPI_COMM_WORLD_SIZE", "1") or 1) > 1:
        return {"auto": "ompi"}
    return None


def initialize(coordinator_address: "str | None" = None, num_processes: "int | None" = None,
               process_id: "int | None" = None, *, local_device_ids=None) -> bool:
    """Connect this process to the others (`jax.distributed.initialize`), once, before
    any other JAX call. Arguments given here win; otherwise `cluster_environment()`
    decides; with neither, nothing happens (one process).

    **Returns:** whether more than one process takes part.

    **Raises:** `ValueError` for an incomplete setting (an address without a process
    count and id, an id outside `[0, num_processes)`)."""
    if jax.distributed.is_initialized():  # (asking for devices would start the backend)
        return is_multiprocess()
    explicit = [coordinator_address, num_processes, process_id]
    if any(v is not None for v in explicit):
        if any(v is None for v in explicit):
            raise ValueError(
                "give coordinator_address ('host:port' of process 0), num_processes and "
                f"process_id together; got {coordinator_address!r}, {num_processes!r}, "
                f"{process_id!r}."
            )
        setting = {"coordinator_address": str(coordinator_address),
                   "num_processes": int(num_processes), "process_id": int(process_id)}
    else:
        setting = cluster_environment()
        if setting is None:
            return False
    if "auto" in setting:
        jax.distributed.initialize(local_device_ids=local_device_ids)
    else:
        n, pid = setting["num_processes"], setting["process_id"]
        if n < 1 or not 0 <= pid < n:
            raise ValueError(
                f"process_id={pid} with num_processes={n}: ids run from 0 to "
                "num_processes - 1."
            )
        if n == 1:
            return False
        jax.distributed.initialize(
            coordinator_address=setting["coordinator_address"], num_processes=n,
            process_id=pid, local_device_ids=local_device_ids,
        )
    return is_multiprocess()


def is_multiprocess() -> bool:
    """Whether JAX runs with more than one process."""
    return jax.process_count() > 1


def global_mesh(axis_name: str = "batch") -> Mesh:
    """A one-axis mesh over every device of every process (`jax.devices()`), for the
    `mesh=` argument of the batched entry points."""
    return Mesh(np.array(jax.devices()), (axis_name,))


def gather(tree):
    """Every array leaf of `tree` as a NumPy array holding the whole of it, on every
    process: `process_allgather` for arrays spread over processes, `np.asarray`
    otherwise (non-array leaves pass through)."""

    def one(a):
        if isinstance(a, jax.Array) and not a.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(a, tiled=True))
        return np.asarray(a) if isinstance(a, (jax.Array, np.ndarray)) else a

    return jax.tree.map(one, tree)


def item_keys(key, start: int, stop: int):
    """`(stop − start, …)` keys `jax.random.fold_in(key, i)` for items `i = start …
    stop − 1`: the randomness of an item depends on its index only, never on how the
    run was split into chunks or processes."""
    idx = np.arange(int(start), int(stop), dtype=np.uint32)
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)


def _fingerprint(config) -> str:
    text = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sync(name: str) -> None:
    if is_multiprocess():
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _read_manifest(path: pathlib.Path, config_fp: str, num_items: int, chunk_size: int):
    if not path.exists():
        return {}
    data = read_json(path, "a chunk manifest")
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"{path}: not a gru_bif chunk manifest; use another folder.")
    mine = {"config": config_fp, "num_items": num_items, "chunk_size": chunk_size}
    theirs = {k: data.get(k) for k in mine}
    if theirs != mine:
        raise ValueError(
            f"{path}: this folder holds chunks of another run ({theirs}; this run is "
            f"{mine}). Use a new folder, or delete it to start again."
        )
    done = {}
    for key, entry in dict(data.get("chunks", {})).items():
        file = path.parent / entry["file"]
        if file.exists() and hashlib.sha256(file.read_bytes()).hexdigest() == entry["sha256"]:
            done[int(key)] = entry  # a missing or altered chunk file is computed again
    return done


def _write_manifest(path, config_fp, num_items, chunk_size, done) -> None:
    data = {"format": _FORMAT, "config": config_fp, "num_items": num_items,
            "chunk_size": chunk_size,
            "chunks": {str(k): v for k, v in sorted(done.items())}}
    write_atomic(path, json.dumps(data, indent=1))


def run_chunks(fn: Callable, num_items: int, inputs: Callable, *, chunk_size: int,
               out_dir=None, config=None, progress: "Callable | None" = None):
    """`fn` over `num_items` items in chunks, over every process's devices, each
    finished chunk written to `out_dir` (when given) so that a run killed mid-way
    resumes where it stopped.

    **Arguments:**

    - `fn`: a function of a chunk: `fn(*inputs(start, stop))` returns a pytree of
        arrays whose leaves have `stop − start` rows (e.g. `gru_bif.batched(one_item,
        mesh=mesh)`, or `gru_bif.census.analyse_networks` with `mesh=`). It must give
        the same result for an item whatever chunk it is in.
    - `num_items`, `chunk_size`: the work and its unit (the last chunk may be shorter).
    - `inputs`: `inputs(start, stop)` → the tuple of arguments for items
        `start … stop − 1`, the same on every process (built from a seed: see
        `item_keys`).
    - `out_dir`: optional folder (on a file system every process sees, as on a
        cluster). Chunk `c` goes to `chunk_00000c.npz` through a temporary file and a
        rename, then into `manifest.json` (the same way); on a new call with the same
        folder, chunks listed there (and whose files are intact) are read, not
        computed. Process 0 writes; all read.
    - `config`: a JSON-able description of the run (e.g. its settings); a folder
        holding chunks of a run with another `config`, item count or chunk size is
        refused with a `ValueError`, never mixed in.
    - `progress`: optional `progress(done_chunks, total_chunks, computed)` called after
        each chunk (`computed`: whether it was computed rather than read).

    **Returns:** the chunks' outputs concatenated along the leading axis (NumPy arrays,
    the same on every process).
    """
    num_items, chunk_size = int(num_items), int(chunk_size)
    if num_items < 1 or chunk_size < 1:
        raise ValueError(
            f"num_items={num_items} and chunk_size={chunk_size} must both be >= 1."
        )
    n_chunks = -(-num_items // chunk_size)
    config_fp = _fingerprint(config)
    directory = manifest = None
    done: dict = {}
    if out_dir is not None:
        directory = pathlib.Path(os.fspath(out_dir))
        if jax.process_index() == 0:
            directory.mkdir(parents=True, exist_ok=True)
        _sync("gru_bif.run_chunks.mkdir")
        manifest = directory / _MANIFEST
        done = _read_manifest(manifest, config_fp, num_items, chunk_size)
    outputs = []
    treedef = None
    for c in range(n_chunks):
        start, stop = c * chunk_size, min((c + 1) * chunk_size, num_items)
        if c in done:
            with np.load(directory / done[c]["file"]) as z:
                leaves = [z[f"leaf_{i}"] for i in range(len(z.files))]
            outputs.append(leaves)
            if progress is not None:
                progress(c + 1, n_chunks, False)
            continue
        out = gather(fn(*inputs(start, stop)))
        leaves, treedef = jax.tree.flatten(out)
        leaves = [np.asarray(a) for a in leaves]
        bad = [np.shape(a) for a in leaves if np.ndim(a) == 0 or np.shape(a)[0] != stop - start]
        if bad:
            raise ValueError(
                f"fn returned leaves of shapes {bad} for a chunk of {stop - start} items; "
                "every output leaf needs the chunk as its leading axis."
            )
        outputs.append(leaves)
        if directory is not None:
            if jax.process_index() == 0:
                name = f"chunk_{c:06d}.npz"
                with atomic_path(directory / name) as tmp:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, **{f"leaf_{i}": a for i, a in enumerate(leaves)})
                sha = hashlib.sha256((directory / name).read_bytes()).hexdigest()
                done[c] = {"file": name, "sha256": sha, "items": [start, stop]}
                _write_manifest(manifest, config_fp, num_items, chunk_size, done)
            _sync(f"gru_bif.run_chunks.{c}")
        if progress is not None:
            progress(c + 1, n_chunks, True)
    if treedef is None:  # every chunk was read: the output structure of `fn`
        try:
            out = jax.eval_shape(lambda *a: fn(*a), *inputs(0, 1))
        except Exception:  # noqa: BLE001 — fn works on host values: run it on one item
            out = fn(*inputs(0, 1))
        treedef = jax.tree.structure(out)
    n_leaves = treedef.num_leaves
    if any(len(leaves) != n_leaves for leaves in outputs):
        raise ValueError(
            f"{directory}: its chunk files hold another output structure than `fn` "
            "returns; use a new folder."
        )
    merged = [np.concatenate([leaves[i] for leaves in outputs]) for i in range(n_leaves)]
    return jax.tree.unflatten(treedef, merged)
