"""Fine-tuning the shipped exit-point network (issue 15, training direction; experiment only).

* `load_onnx_weights`: the shipped `exit_cnn.onnx` holds no PyTorch weights and its batch
  norms are folded into the convolutions; its convolutions, in graph order, are the network's
  convolutions in forward order, so they load into an `ExitNet(batch_norm=False)`.
* `pair_target_map`: Gaussian targets where exits that have another labelled exit within
  `pair_distance` grid px get a narrower Gaussian (`pair_sigma`), so the focal loss's
  negative weight, (1 - target)^4, no longer nearly vanishes between the two hairs of a unit.
* `pair_centres`: crop centres on such close pairs (dense fields and multi-hair units are
  where the network misses hairs), for a share of the training crops.
* `pale`: thin, pale and blurred hairs: contrast towards the skin level, blur, desaturation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from torch import nn


def load_onnx_weights(net: nn.Module, path: Path) -> None:
    """Copy the ONNX graph's convolution weights into net's Conv2d layers (forward order)."""
    import onnx  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from onnx import numpy_helper  # noqa: PLC0415

    model = onnx.load(str(path))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    graph_convs = [node for node in model.graph.node if node.op_type == "Conv"]
    # Forward order of the modules: stem, encoders, then per decoder level reduce, decoder;
    # then the head (ExitNet.forward).
    order: list[nn.Conv2d] = [net.stem[0]]  # type: ignore[index]
    for encoder in net.encoders:  # type: ignore[attr-defined]
        order += [encoder[0][0], encoder[1][0]]
    for level in range(len(net.widths) - 2, -1, -1):  # type: ignore[attr-defined]
        order += [net.reduce[level], net.decoders[level][0]]  # type: ignore[index]
    order.append(net.head)  # type: ignore[arg-type]
    assert len(order) == len(graph_convs), (len(order), len(graph_convs))
    with torch.no_grad():
        for module, node in zip(order, graph_convs, strict=True):
            weight = arrays[node.input[1]]
            assert tuple(module.weight.shape) == weight.shape, (module, weight.shape)
            module.weight.copy_(torch.from_numpy(weight.copy()))
            assert module.bias is not None
            module.bias.copy_(torch.from_numpy(arrays[node.input[2]].copy()))


def pair_target_map(
    shape: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    sigma: float,
    pair_sigma: float,
    pair_distance: float,
) -> np.ndarray:
    """Max of Gaussians at the exits; exits with a neighbour closer than pair_distance get
    pair_sigma instead of sigma."""
    heat = np.zeros(shape, dtype=np.float32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    gaps = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :])
    np.fill_diagonal(gaps, np.inf)
    paired = gaps.min(axis=1, initial=np.inf) < pair_distance
    for r, c, pair in zip(rows, cols, paired, strict=True):
        ri, ci = int(round(r)), int(round(c))
        if not (0 <= ri < shape[0] and 0 <= ci < shape[1]):
            continue
        s = pair_sigma if pair else sigma
        r0, r1 = max(0, ri - 5), min(shape[0], ri + 6)
        c0, c1 = max(0, ci - 5), min(shape[1], ci + 6)
        g = np.exp(-((yy[r0:r1, c0:c1] - ri) ** 2 + (xx[r0:r1, c0:c1] - ci) ** 2) / (2 * s * s))
        heat[r0:r1, c0:c1] = np.maximum(heat[r0:r1, c0:c1], g)
    return heat


def pair_centres(rows: np.ndarray, cols: np.ndarray, pair_distance: float) -> np.ndarray:
    """(row, col) of exits that have another exit within pair_distance grid px."""
    gaps = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :])
    np.fill_diagonal(gaps, np.inf)
    paired = gaps.min(axis=1, initial=np.inf) < pair_distance
    return np.stack([rows[paired], cols[paired]], axis=1)


def pale(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crop (C, H, W, skin level about 1) made paler, softer and greyer: contrast towards
    the skin level, a Gaussian blur, partial desaturation (each applied at random)."""
    out = x
    if rng.random() < 0.5:
        keep = rng.uniform(0.55, 0.9)
        out = 1.0 + (out - 1.0) * np.float32(keep)
    if rng.random() < 0.5:
        out = ndi.gaussian_filter(out, sigma=(0, *(2 * [rng.uniform(0.4, 1.0)])))
    if rng.random() < 0.5:
        grey = out.mean(axis=0, keepdims=True)
        amount = np.float32(rng.uniform(0.2, 0.7))
        out = out * (1 - amount) + grey * amount
    return np.asarray(out, dtype=np.float32)
