"""Train the small fully-convolutional exit-point heatmap network (experiment, PyTorch on CPU).

    pip install torch==2.13.0 onnx onnxruntime      # training-only; CPU wheel
    PYTHONPATH=src python bench/imaging_train_cnn.py [--minutes 14] [--out exit_cnn.onnx]

Tuning subjects only: the held-out quarter (sha256("val:" + subject)[0] % 4 == 0) picks the
peak threshold, the rest train. Input: the skin-normalised brightness and blueness channels
(features.normalised_channels) on the quarter-resolution grid (320 px wide for a 1280 px
image). Target: Gaussians (sigma 1.5 grid px) at labelled exit points; CenterNet-style focal
loss. The exported ONNX model maps (1, 2, H, W) -> (1, 1, H, W) logits, H and W multiples of 8.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_dataset import labelled_images  # noqa: E402
from imaging_metrics import Tally  # noqa: E402

from mesoclinic.imaging.analysis import to_work_resolution  # noqa: E402
from mesoclinic.imaging.cnn_detector import heat_peaks, model_input  # noqa: E402
from mesoclinic.imaging.loading import load_image  # noqa: E402

CACHE = Path("/tmp/mesoclinic_cnn_cache.npz")
SIGMA = 1.5
CROP = 96


def is_val(subject: str) -> bool:
    return hashlib.sha256(f"val:{subject}".encode()).digest()[0] % 4 == 0


def fine_coords(xs: np.ndarray, ys: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Source (x, y) to fine-grid (row, col): fine pixel r spans work pixels 2r, 2r+1."""
    return (ys + 0.5) / scale / 2.0 - 0.5, (xs + 0.5) / scale / 2.0 - 0.5


def load_split() -> dict[str, np.ndarray]:
    if CACHE.exists():
        return dict(np.load(CACHE, allow_pickle=True))
    inputs, points, vals, scales = [], [], [], []
    for image in labelled_images("tune"):
        loaded = load_image(image.path)
        work, factor = to_work_resolution(loaded.pixels)
        scale = factor * loaded.source_scale
        x = model_input(work)
        xs = np.array([h.x0 for h in image.hairs], dtype=np.float64)
        ys = np.array([h.y0 for h in image.hairs], dtype=np.float64)
        inputs.append(x)
        points.append(np.stack([xs, ys], axis=1))
        vals.append(is_val(image.subject))
        scales.append(scale)
    data = {
        "inputs": np.stack(inputs),
        "points": np.array(points, dtype=object),
        "val": np.array(vals),
        "scales": np.array(scales),
    }
    np.savez(CACHE, **data)  # type: ignore[arg-type]
    return data


def target_map(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    heat = np.zeros(shape, dtype=np.float32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    for r, c in zip(rows, cols, strict=True):
        ri, ci = int(round(r)), int(round(c))
        if not (0 <= ri < shape[0] and 0 <= ci < shape[1]):
            continue
        r0, r1, c0, c1 = (
            max(0, ri - 5),
            min(shape[0], ri + 6),
            max(0, ci - 5),
            min(shape[1], ci + 6),
        )
        g = np.exp(-((yy[r0:r1, c0:c1] - ri) ** 2 + (xx[r0:r1, c0:c1] - ci) ** 2) / (2 * SIGMA**2))
        heat[r0:r1, c0:c1] = np.maximum(heat[r0:r1, c0:c1], g)
    return heat


def conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class ExitNet(nn.Module):
    """Tiny U-Net: 8-16-32-48 channels over four scales, additive skips, one logit map."""

    def __init__(self, widths: tuple[int, int, int, int] = (8, 16, 32, 48)) -> None:
        super().__init__()
        a, b, c, d = widths
        self.e1 = nn.Sequential(conv(2, a), conv(a, a))
        self.e2 = nn.Sequential(conv(a, b), conv(b, b))
        self.e3 = nn.Sequential(conv(b, c), conv(c, c))
        self.e4 = nn.Sequential(conv(c, d), conv(d, d))
        self.r4, self.r3, self.r2 = nn.Conv2d(d, c, 1), nn.Conv2d(c, b, 1), nn.Conv2d(b, a, 1)
        self.d3, self.d2, self.d1 = conv(c, c), conv(b, b), conv(a, a)
        self.head = nn.Conv2d(a, 1, 1)
        nn.init.constant_(self.head.bias, -4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.e1(x)
        f2 = self.e2(F.max_pool2d(f1, 2))
        f3 = self.e3(F.max_pool2d(f2, 2))
        f4 = self.e4(F.max_pool2d(f3, 2))
        u3 = self.d3(F.interpolate(self.r4(f4), scale_factor=2.0, mode="nearest") + f3)
        u2 = self.d2(F.interpolate(self.r3(u3), scale_factor=2.0, mode="nearest") + f2)
        u1 = self.d1(F.interpolate(self.r2(u2), scale_factor=2.0, mode="nearest") + f1)
        return self.head(u1)


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target > 0.99
    pos_loss = -(torch.log(p) * (1 - p) ** 2)[pos].sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - target) ** 4)[~pos].sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def evaluate(
    net: ExitNet, data: dict[str, np.ndarray], index: np.ndarray, thresholds: np.ndarray
) -> list[tuple[float, float, float, int, int]]:
    net.eval()
    heats = []
    with torch.no_grad():
        for i in index:
            x = torch.from_numpy(data["inputs"][i][None])
            heats.append(torch.sigmoid(net(x))[0, 0].numpy())
    rows = []
    for t in thresholds:
        tally, pred, lab = Tally(), 0, 0
        for i, heat in zip(index, heats, strict=True):
            peaks = heat_peaks(heat, float(t))
            scale = float(data["scales"][i])
            detected = np.stack(
                [(peaks[:, 1] * 2 + 1.0) * scale - 0.5, (peaks[:, 0] * 2 + 1.0) * scale - 0.5], 1
            )
            truth = np.asarray(data["points"][i], dtype=np.float64).reshape(-1, 2)
            keep = truth[:, 1] >= 32  # the profile excludes the text bar (rows 0-31)
            tally.add(detected.reshape(-1, 2), truth[keep])
            pred += len(detected)
            lab += int(keep.sum())
        rows.append((float(t), tally.precision_recall_f1()[2], 0.0, pred, lab))
    net.train()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=14.0, help="training time budget")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="src/mesoclinic/imaging/exit_cnn.onnx")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", default=None, help="continue from a saved state dict (.pt)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    data = load_split()
    inputs = data["inputs"].astype(np.float32)
    data["inputs"] = inputs
    n, _, height, width = inputs.shape
    targets = np.zeros((n, height, width), dtype=np.float32)
    for i in range(n):
        pts = np.asarray(data["points"][i], dtype=np.float64).reshape(-1, 2)
        s = float(data["scales"][i])
        rows = (pts[:, 1] + 0.5) / s / 2.0 - 0.5
        cols = (pts[:, 0] + 0.5) / s / 2.0 - 0.5
        targets[i] = target_map((height, width), rows, cols)
    train_idx = np.nonzero(~data["val"])[0]
    val_idx = np.nonzero(data["val"])[0]
    print(
        f"data {n} images ({len(train_idx)} train, {len(val_idx)} val)",
        flush=True,
    )
    net = ExitNet()
    if args.init:
        net.load_state_dict(torch.load(args.init))
    print("params", sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    running = 0.0
    budget = args.minutes * 60.0
    train_started = time.perf_counter()
    step = 0
    while (fraction := (time.perf_counter() - train_started) / budget) < 1.0:
        # Warm-up then cosine decay over the wall-time budget (the machine is shared).
        lr = 3e-3 * min(1.0, step / 50) * 0.5 * (1 + np.cos(np.pi * fraction))
        for group in opt.param_groups:
            group["lr"] = lr
        xb = np.empty((args.batch, 2, CROP, CROP), dtype=np.float32)
        yb = np.empty((args.batch, 1, CROP, CROP), dtype=np.float32)
        for b in range(args.batch):
            i = rng.choice(train_idx)
            r0 = rng.integers(0, height - CROP + 1)
            c0 = rng.integers(0, width - CROP + 1)
            x = inputs[i, :, r0 : r0 + CROP, c0 : c0 + CROP]
            y = targets[i, r0 : r0 + CROP, c0 : c0 + CROP][None]
            k = int(rng.integers(4))
            x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k, axes=(1, 2))
            if rng.random() < 0.5:
                x, y = x[:, :, ::-1], y[:, :, ::-1]
            gain = rng.uniform(0.85, 1.15)
            xb[b] = x * np.array([gain, rng.uniform(0.8, 1.2)], dtype=np.float32)[:, None, None]
            yb[b] = y
        loss = focal_loss(net(torch.from_numpy(xb)), torch.from_numpy(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        step += 1
        if step % 50 == 0:
            print(
                f"step {step} loss {running:.3f} {time.perf_counter() - started:.0f} s", flush=True
            )
    torch.save(net.state_dict(), args.out.removesuffix(".onnx") + ".pt")
    thresholds = np.round(np.arange(0.12, 0.40, 0.02), 2)
    for t, f1, _, pred, lab in evaluate(net, data, val_idx, thresholds):
        print(f"val threshold {t:.2f} F1 {f1:.3f} detected {pred} labelled {lab}", flush=True)
    net.eval()
    torch.onnx.export(
        net,
        (torch.zeros(1, 2, height, width),),
        args.out,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
