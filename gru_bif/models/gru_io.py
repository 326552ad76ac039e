"""Converters from trained GRUs of other libraries to `gru_bif.GRU`: PyTorch
(`torch.nn.GRU` / `GRUCell` modules or state dicts), Keras (`keras.layers.GRU` /
`GRUCell` weights), Flax (`flax.linen.GRUCell` parameters) and Equinox
(`equinox.nn.GRUCell`). Each reproduces one discrete step of the source exactly (see the
table in `gru_bif.models.gru`); the public entry points are the class methods
`GRU.from_torch`, `GRU.from_keras`, `GRU.from_flax` and `GRU.from_equinox`, which call
these with the class."""

import re
from collections.abc import Mapping

import equinox as eqx
import numpy as np

from ._checks import _check_shape, _check_size, _source_array

_TORCH_LAYER_KEY = re.compile(r"^(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$")
_TORCH_CELL_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_FLAX_LAYOUT = {
    "ir": ("kernel", "bias"),
    "iz": ("kernel", "bias"),
    "in": ("kernel", "bias"),
    "hr": ("kernel",),
    "hz": ("kernel",),
    "hn": ("kernel", "bias"),
}


def from_torch(cls, module_or_state_dict, *, layer: int | None=None, dtype=None):
    obj = module_or_state_dict
    if layer is not None:
        layer = _check_size("layer", layer, 0)
    if isinstance(obj, Mapping):
        state = dict(obj)
    else:
        try:
            import torch
        except ImportError as e:
            raise ValueError(
                f"GRU.from_torch got a {type(obj).__name__}, not a state dict, and torch "
                "is not installed; install torch or pass module.state_dict()."
            ) from e
        if isinstance(obj, torch.nn.GRU):
            if obj.bidirectional:
                raise ValueError(
                    "GRU.from_torch: this torch.nn.GRU is bidirectional, i.e. two GRUs run "
                    "in opposite time directions, which is not one dynamical system. "
                    "Convert one direction: pass the state dict without the '_reverse' "
                    "keys, {k: v for k, v in gru.state_dict().items() if not "
                    "k.endswith('_reverse')}."
                )
            if obj.num_layers > 1 and layer is None:
                raise ValueError(
                    f"GRU.from_torch: this torch.nn.GRU has more than one layer "
                    f"(num_layers={obj.num_layers}); pass layer=k (0 ≤ k < "
                    f"{obj.num_layers}) to convert one layer."
                )
        elif isinstance(obj, torch.nn.GRUCell):
            pass
        else:
            raise ValueError(
                "GRU.from_torch expects a torch.nn.GRU, a torch.nn.GRUCell or a state "
                f"dict; got a {type(obj).__name__}."
            )
        state = obj.state_dict()
    return _from_torch_state(cls, state, layer, dtype)


def _from_torch_state(cls, state: dict, layer: int | None, dtype):
    source = "GRU.from_torch"
    keys = [str(k) for k in state]
    unknown = [k for k in keys if not (_TORCH_LAYER_KEY.match(k) or k in _TORCH_CELL_KEYS)]
    if unknown:
        hint = ""
        prefixes = sorted({k.rsplit(".", 1)[0] + "." for k in unknown if "." in k})
        if prefixes:
            pre = prefixes[0]
            hint = (
                " These look like keys of a larger model: keep only the GRU's entries and "
                f"strip their prefix, e.g. {{k.removeprefix({pre!r}): v for k, v in "
                f"sd.items() if k.startswith({pre!r})}}."
            )
        raise ValueError(
            f"{source}: unknown state-dict keys {sorted(unknown)}; expected weight_ih_l0, "
            "weight_hh_l0, bias_ih_l0, bias_hh_l0 (torch.nn.GRU) or weight_ih, weight_hh, "
            "bias_ih, bias_hh (torch.nn.GRUCell)." + hint
        )
    cell_style = [k for k in keys if k in _TORCH_CELL_KEYS]
    layer_style = [k for k in keys if _TORCH_LAYER_KEY.match(k)]
    if cell_style and layer_style:
        raise ValueError(
            f"{source}: the state dict mixes GRUCell keys {sorted(cell_style)} with GRU "
            f"keys {sorted(layer_style)}; pass the state dict of one module."
        )
    if any(k.endswith("_reverse") for k in layer_style):
        raise ValueError(
            f"{source}: the state dict is of a bidirectional GRU ('_reverse' keys); convert "
            "one direction by dropping the '_reverse' keys."
        )
    if layer_style:
        layers = sorted({int(_TORCH_LAYER_KEY.match(k).group(3)) for k in layer_style})
        if layer is None:
            if layers != [0]:
                raise ValueError(
                    f"{source}: the state dict holds more than one layer (layers "
                    f"{layers}); pass layer=k to convert layer k."
                )
            layer = 0
        if layer not in layers:
            raise ValueError(
                f"{source}: layer={layer} is not in the state dict (it has layers {layers})."
            )
        suffix = f"_l{layer}"
    else:
        if layer not in (None, 0):
            raise ValueError(
                f"{source}: a GRUCell has a single layer; got layer={layer}. Pass layer=None."
            )
        suffix = ""
    names = {k: k + suffix for k in _TORCH_CELL_KEYS}
    has_bias = [names[k] in state for k in ("bias_ih", "bias_hh")]
    required = [names["weight_ih"], names["weight_hh"]]
    if any(has_bias):
        required += [names["bias_ih"], names["bias_hh"]]
    missing = [k for k in required if k not in state]
    if missing:
        raise ValueError(
            f"{source}: the state dict lacks {missing}; it needs {required} (bias keys "
            "may both be absent, for bias=False)."
        )
    w_hh = _source_array(source, names["weight_hh"], state[names["weight_hh"]])
    if np.ndim(w_hh) != 2 or w_hh.shape[1] == 0 or w_hh.shape[0] != 3 * w_hh.shape[1]:
        raise ValueError(
            f"{source}: {names['weight_hh']!r} has shape {np.shape(w_hh)}; expected "
            "(3 d, d) with the gates stacked in the order r, z, n."
        )
    d = w_hh.shape[1]
    w_ih = _source_array(source, names["weight_ih"], state[names["weight_ih"]])
    if np.ndim(w_ih) != 2 or w_ih.shape[0] != 3 * d:
        raise ValueError(
            f"{source}: {names['weight_ih']!r} has shape {np.shape(w_ih)}; expected "
            f"(3 d, m) = ({3 * d}, m)."
        )
    if all(has_bias):
        b_ih = _source_array(source, names["bias_ih"], state[names["bias_ih"]])
        b_hh = _source_array(source, names["bias_hh"], state[names["bias_hh"]])
        _check_shape(source, names["bias_ih"], b_ih, (3 * d,))
        _check_shape(source, names["bias_hh"], b_hh, (3 * d,))
    else:
        b_ih = b_hh = np.zeros((3 * d,))
    r, z, n = slice(0, d), slice(d, 2 * d), slice(2 * d, 3 * d)
    return cls(
        Uh=w_hh[n],
        Uz=w_hh[z],
        Ur=w_hh[r],
        Wz=w_ih[z],
        Wr=w_ih[r],
        Wh=w_ih[n],
        bz=b_ih[z] + b_hh[z],
        br=b_ih[r] + b_hh[r],
        bh=b_ih[n],
        bhh=b_hh[n],
        reset="after",
        dtype=dtype,
    )


def from_keras(cls, kernel, recurrent_kernel=None, bias=None, *, reset_after: bool=True, dtype=None):
    source = "GRU.from_keras"
    if recurrent_kernel is None and hasattr(kernel, "get_weights"):
        layer = kernel
        for attr, want in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
            fn = getattr(layer, attr, None)
            name = getattr(fn, "__name__", None)
            if name is not None and name != want:
                raise ValueError(
                    f"{source}: the layer's {attr} is {name!r}; a GRU here uses {want!r} "
                    f"(retrain with {attr}={want!r}, or write the vector field by hand)."
                )
        cell = getattr(layer, "cell", layer)
        reset_after = bool(getattr(cell, "reset_after", reset_after))
        weights = list(layer.get_weights())
        if len(weights) == 3:
            kernel, recurrent_kernel, bias = weights
        elif len(weights) == 2:
            kernel, recurrent_kernel = weights
        else:
            raise ValueError(
                f"{source}: the layer has {len(weights)} weight arrays; expected 2 or 3 "
                "(kernel, recurrent_kernel[, bias]). Build it first by calling it on an "
                "input."
            )
    if recurrent_kernel is None:
        raise ValueError(
            f"{source}: pass kernel, recurrent_kernel and bias (e.g. "
            "GRU.from_keras(*layer.get_weights())), or a Keras GRU layer."
        )
    rk = _source_array(source, "recurrent_kernel", recurrent_kernel)
    if np.ndim(rk) != 2 or rk.shape[0] == 0 or rk.shape[1] != 3 * rk.shape[0]:
        raise ValueError(
            f"{source}: 'recurrent_kernel' has shape {np.shape(rk)}; expected (d, 3 d) "
            "with the gates stacked in the order z, r, h."
        )
    d = rk.shape[0]
    k = _source_array(source, "kernel", kernel)
    if np.ndim(k) != 2 or k.shape[1] != 3 * d:
        raise ValueError(
            f"{source}: 'kernel' has shape {np.shape(k)}; expected (m, 3 d) = (m, {3 * d})."
        )
    z, r, h = slice(0, d), slice(d, 2 * d), slice(2 * d, 3 * d)
    if bias is None:
        b_i = b_h = np.zeros((3 * d,))
    else:
        b = _source_array(source, "bias", bias)
        if reset_after:
            if np.shape(b) == (3 * d,):
                raise ValueError(
                    f"{source}: 'bias' has shape {(3 * d,)}, the shape of a "
                    "reset_after=False layer; pass reset_after=False."
                )
            _check_shape(source, "bias", b, (2, 3 * d), "(row 0: input bias, row 1: "
                         "recurrent bias; reset_after=True)")
            b_i, b_h = b[0], b[1]
        else:
            if np.shape(b) == (2, 3 * d):
                raise ValueError(
                    f"{source}: 'bias' has shape {(2, 3 * d)}, the shape of a "
                    "reset_after=True layer; pass reset_after=True."
                )
            _check_shape(source, "bias", b, (3 * d,), "(reset_after=False)")
            b_i, b_h = b, np.zeros((3 * d,))
    return cls(
        Uh=rk[:, h].T,
        Uz=rk[:, z].T,
        Ur=rk[:, r].T,
        Wz=k[:, z].T,
        Wr=k[:, r].T,
        Wh=k[:, h].T,
        bz=b_i[z] + b_h[z] if reset_after else b_i[z],
        br=b_i[r] + b_h[r] if reset_after else b_i[r],
        bh=b_i[h],
        bhh=b_h[h] if reset_after else None,
        reset="after" if reset_after else "before",
        dtype=dtype,
    )


def from_flax(cls, params, *, dtype=None):
    source = "GRU.from_flax"
    p = params
    if isinstance(p, Mapping) and set(p) == {"params"}:
        p = p["params"]
    if not isinstance(p, Mapping):
        raise ValueError(
            f"{source} expects the GRUCell's parameter dict; got a {type(p).__name__}."
        )
    unknown = sorted(set(map(str, p)) - set(_FLAX_LAYOUT))
    missing = sorted(set(_FLAX_LAYOUT) - set(map(str, p)))
    if unknown or missing:
        raise ValueError(
            f"{source}: parameter dict has unknown entries {unknown} and lacks {missing}; "
            f"a flax.linen.GRUCell has exactly {sorted(_FLAX_LAYOUT)} (pass "
            "variables['params'], or the cell's sub-dict of a larger model)."
        )
    arrays = {}
    for gate, leaves in _FLAX_LAYOUT.items():
        sub = p[gate]
        if not isinstance(sub, Mapping) or set(map(str, sub)) != set(leaves):
            have = sorted(map(str, sub)) if isinstance(sub, Mapping) else type(sub).__name__
            raise ValueError(
                f"{source}: entry {gate!r} has {have}; expected exactly {list(leaves)}."
            )
        for leaf in leaves:
            arrays[gate, leaf] = _source_array(source, f"{gate}/{leaf}", sub[leaf])
    hn = arrays["hn", "kernel"]
    if np.ndim(hn) != 2 or hn.shape[0] != hn.shape[1] or hn.shape[0] == 0:
        raise ValueError(f"{source}: 'hn/kernel' has shape {np.shape(hn)}; expected (d, d).")
    d = hn.shape[0]
    if np.ndim(arrays["in", "kernel"]) != 2:
        raise ValueError(
            f"{source}: 'in/kernel' has shape {np.shape(arrays['in', 'kernel'])}; expected "
            f"(m, d) = (m, {d})."
        )
    m = np.shape(arrays["in", "kernel"])[0]
    for gate in ("ir", "iz", "in"):
        _check_shape(source, f"{gate}/kernel", arrays[gate, "kernel"], (m, d),
                     "(Dense kernels are (in_features, out_features))")
        _check_shape(source, f"{gate}/bias", arrays[gate, "bias"], (d,))
    for gate in ("hr", "hz"):
        _check_shape(source, f"{gate}/kernel", arrays[gate, "kernel"], (d, d))
    _check_shape(source, "hn/bias", arrays["hn", "bias"], (d,))
    return cls(
        Uh=hn.T,
        Uz=arrays["hz", "kernel"].T,
        Ur=arrays["hr", "kernel"].T,
        Wz=arrays["iz", "kernel"].T,
        Wr=arrays["ir", "kernel"].T,
        Wh=arrays["in", "kernel"].T,
        bz=arrays["iz", "bias"],
        br=arrays["ir", "bias"],
        bh=arrays["in", "bias"],
        bhh=arrays["hn", "bias"],
        reset="after",
        dtype=dtype,
    )


def from_equinox(cls, cell: eqx.nn.GRUCell, *, dtype=None):
    source = "GRU.from_equinox"
    if not isinstance(cell, eqx.nn.GRUCell):
        raise ValueError(
            f"{source} expects an equinox.nn.GRUCell; got a {type(cell).__name__}."
        )
    d = cell.hidden_size
    w_ih = _source_array(source, "weight_ih", cell.weight_ih)
    w_hh = _source_array(source, "weight_hh", cell.weight_hh)
    _check_shape(source, "weight_ih", w_ih, (3 * d, cell.input_size))
    _check_shape(source, "weight_hh", w_hh, (3 * d, d))
    if cell.use_bias:
        b = _source_array(source, "bias", cell.bias)
        b_n = _source_array(source, "bias_n", cell.bias_n)
        _check_shape(source, "bias", b, (3 * d,))
        _check_shape(source, "bias_n", b_n, (d,))
    else:
        b, b_n = np.zeros((3 * d,)), np.zeros((d,))
    r, z, n = slice(0, d), slice(d, 2 * d), slice(2 * d, 3 * d)
    return cls(
        Uh=w_hh[n],
        Uz=w_hh[z],
        Ur=w_hh[r],
        Wz=w_ih[z],
        Wr=w_ih[r],
        Wh=w_ih[n],
        bz=b[z],
        br=b[r],
        bh=b[n],
        bhh=b_n,
        reset="after",
        dtype=dtype,
    )
