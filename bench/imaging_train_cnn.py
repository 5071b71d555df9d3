"""Train the small fully-convolutional exit-point heatmap network (experiment, PyTorch on CPU).

    pip install torch==2.13.0 onnx onnxruntime      # training-only; CPU wheel
    PYTHONPATH=src python bench/imaging_train_cnn.py [--minutes 95] [--out exit_cnn.onnx]

Tuning subjects only: the held-out quarter (sha256("val:" + subject)[0] % 4 == 0) picks the
peak threshold and the checkpoint, the rest train. Input: skin-normalised red, green and blue
(cnn_detector.model_input) on the quarter-resolution grid (320 px wide for a 1280 px image).
Target: Gaussians (sigma 1.5 grid px) at labelled exit points; CenterNet-style focal loss.
The exported ONNX model maps (1, 3, H, W) -> (1, 1, H, W) logits, H and W multiples of 16.

Fine-tuning the shipped network (issue 15; imaging_cnn_finetune.py): --from-onnx PATH loads
an exported network (batch norm folded, so it trains without batch norm); --pair-sigma and
--pair-distance narrow the Gaussians of exits that have a close neighbour, --pair-crops
centres that share of crops on such pairs, --pale makes that share of crops paler, softer and
greyer. --eval-only validates the start weights (with --export: writes them to --out), e.g.
a saved checkpoint: --from-onnx src/mesoclinic/imaging/exit_cnn.onnx --init RUN.best.pt.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_cnn_finetune import (  # noqa: E402
    load_onnx_weights,
    pair_centres,
    pair_target_map,
    pale,
)
from imaging_dataset import held_out, labelled_images  # noqa: E402
from imaging_metrics import Tally  # noqa: E402

from mesoclinic.imaging.analysis import to_work_resolution  # noqa: E402
from mesoclinic.imaging.cnn_detector import heat_peaks, model_input  # noqa: E402
from mesoclinic.imaging.loading import load_image  # noqa: E402

CACHE = Path("/tmp/mesoclinic_cnn_cache_rgb.npz")
SIGMA = 1.5


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
        vals.append(held_out(image.subject))
        scales.append(scale)
    data = {
        "inputs": np.stack(inputs),
        "points": np.array(points, dtype=object),
        "val": np.array(vals),
        "scales": np.array(scales),
    }
    np.savez(CACHE, **data)  # type: ignore[arg-type]
    return data


def conv(cin: int, cout: int, batch_norm: bool = True) -> nn.Sequential:
    if not batch_norm:  # the exported network: batch norm folded into the convolution
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class ExitNet(nn.Module):
    """Small U-Net over five scales, additive skips, one logit map.

    Level 1 (the full fine grid) has one encoder and one decoder convolution, deeper levels
    two encoder convolutions each: most of the capacity sits where pixels are few.
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (8, 16, 32, 64, 96),
        channels: int = 3,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.widths = widths
        bn = batch_norm
        self.stem = conv(channels, widths[0], bn)
        self.encoders = nn.ModuleList(
            [
                nn.Sequential(conv(widths[i - 1], widths[i], bn), conv(widths[i], widths[i], bn))
                for i in range(1, len(widths))
            ]
        )
        self.reduce = nn.ModuleList(
            [nn.Conv2d(widths[i], widths[i - 1], 1) for i in range(1, len(widths))]
        )
        self.decoders = nn.ModuleList([conv(w, w, bn) for w in widths[:-1]])
        self.head = nn.Conv2d(widths[0], 1, 1)
        assert self.head.bias is not None
        nn.init.constant_(self.head.bias, -4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [self.stem(x)]
        for encoder in self.encoders:
            features.append(encoder(F.max_pool2d(features[-1], 2)))
        up = features[-1]
        for level in range(len(self.widths) - 2, -1, -1):
            lifted = F.interpolate(self.reduce[level](up), scale_factor=2.0, mode="nearest")
            up = self.decoders[level](lifted + features[level])
        head: torch.Tensor = self.head(up)
        return head


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target > 0.99
    pos_loss = -(torch.log(p) * (1 - p) ** 2)[pos].sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - target) ** 4)[~pos].sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def evaluate(
    net: ExitNet, data: dict[str, np.ndarray], index: np.ndarray, thresholds: np.ndarray
) -> list[tuple[float, float, int, int]]:
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
        rows.append((float(t), tally.precision_recall_f1()[2], pred, lab))
    net.train()
    return rows


def best_row(rows: list[tuple[float, float, int, int]]) -> tuple[float, float, int, int]:
    """The docs' rule: among thresholds within 0.005 of the best F1, the least biased count."""
    top = max(f1 for _, f1, _, _ in rows)
    near = [row for row in rows if row[1] >= top - 0.005]
    return min(near, key=lambda row: abs(row[2] - row[3]))


def export(net: ExitNet, out: str, channels: int, height: int, width: int) -> None:
    net.eval()
    torch.onnx.export(
        net,
        (torch.zeros(1, channels, height, width),),
        out,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}},
        opset_version=17,
        dynamo=False,
    )
    net.train()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=95.0, help="training time budget")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--widths", default="8,16,32,64,96")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-minutes", type=float, default=8.0, help="validate this often")
    parser.add_argument("--out", default="src/mesoclinic/imaging/exit_cnn.onnx")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", default=None, help="continue from a saved state dict (.pt)")
    parser.add_argument(
        "--from-onnx",
        default=None,
        help="fine-tune an exported network (batch norm folded: the net trains without it)",
    )
    parser.add_argument("--eval-only", action="store_true", help="validate the start weights")
    parser.add_argument("--export", action="store_true", help="with --eval-only: write --out")
    parser.add_argument("--pair-sigma", type=float, default=SIGMA, help="sigma at paired exits")
    parser.add_argument("--pair-distance", type=float, default=7.5, help="grid px (30 source)")
    parser.add_argument("--pair-crops", type=float, default=0.0, help="share of crops on pairs")
    parser.add_argument("--pale", type=float, default=0.0, help="share of crops made pale")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    parser.add_argument(
        "--all-tune",
        action="store_true",
        help="train on every tuning image, held-out quarter included (no validation: keep the "
        "thresholds and rescoring model of a run with validation)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    data = load_split()
    inputs = data["inputs"].astype(np.float32)
    data["inputs"] = inputs
    n, channels, height, width = inputs.shape
    crop = args.crop
    targets = np.zeros((n, height, width), dtype=np.float32)
    pairs: list[np.ndarray] = []
    for i in range(n):
        pts = np.asarray(data["points"][i], dtype=np.float64).reshape(-1, 2)
        s = float(data["scales"][i])
        rows, cols = fine_coords(pts[:, 0], pts[:, 1], s)
        targets[i] = pair_target_map(
            (height, width), rows, cols, SIGMA, args.pair_sigma, args.pair_distance
        )
        pairs.append(pair_centres(rows, cols, args.pair_distance))
    train_idx = np.arange(n) if args.all_tune else np.nonzero(~data["val"])[0]
    val_idx = np.array([], dtype=np.int64) if args.all_tune else np.nonzero(data["val"])[0]
    print(f"data {n} images ({len(train_idx)} train, {len(val_idx)} val)", flush=True)
    widths = tuple(int(w) for w in args.widths.split(","))
    net = ExitNet(widths, channels, batch_norm=not args.from_onnx)
    if args.from_onnx:
        load_onnx_weights(net, Path(args.from_onnx))
    if args.init:
        net.load_state_dict(torch.load(args.init))
    paired_idx = np.array([i for i in train_idx if len(pairs[i])])
    thresholds = np.round(np.arange(0.10, 0.50, 0.02), 2)
    if args.eval_only:
        for t, f1, pred, lab in evaluate(net, data, val_idx, thresholds):
            print(f"val threshold {t:.2f} F1 {f1:.3f} detected {pred} labelled {lab}", flush=True)
        print("start", best_row(evaluate(net, data, val_idx, thresholds)), flush=True)
        if args.export:
            export(net, args.out, channels, height, width)
            print(f"wrote {args.out}", flush=True)
        return
    print("params", sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    running, best_f1 = 0.0, -1.0
    budget = args.minutes * 60.0
    train_started = time.perf_counter()
    next_eval = args.eval_minutes * 60.0
    step = 0
    while (elapsed := time.perf_counter() - train_started) < budget:
        fraction = elapsed / budget
        # Warm-up then cosine decay over the wall-time budget (the machine is shared).
        lr = args.lr * min(1.0, step / args.warmup) * 0.5 * (1 + np.cos(np.pi * fraction))
        for group in opt.param_groups:
            group["lr"] = lr
        xb = np.empty((args.batch, channels, crop, crop), dtype=np.float32)
        yb = np.empty((args.batch, 1, crop, crop), dtype=np.float32)
        for b in range(args.batch):
            if len(paired_idx) and rng.random() < args.pair_crops:
                # A crop holding a close pair of exits somewhere inside it (not at its edge).
                i = int(rng.choice(paired_idx))
                pr, pc = pairs[i][rng.integers(len(pairs[i]))]
                r0 = int(np.clip(pr - rng.integers(16, crop - 16), 0, height - crop))
                c0 = int(np.clip(pc - rng.integers(16, crop - 16), 0, width - crop))
            else:
                i = rng.choice(train_idx)
                r0 = rng.integers(0, height - crop + 1)
                c0 = rng.integers(0, width - crop + 1)
            x = inputs[i, :, r0 : r0 + crop, c0 : c0 + crop]
            y = targets[i, r0 : r0 + crop, c0 : c0 + crop][None]
            k = int(rng.integers(4))
            x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k, axes=(1, 2))
            if rng.random() < 0.5:
                x, y = x[:, :, ::-1], y[:, :, ::-1]
            # Exposure and colour balance differ between images: scale all channels, then each.
            gains = np.asarray(rng.uniform(0.85, 1.15) * rng.uniform(0.92, 1.08, size=channels))
            x = x * gains.astype(np.float32)[:, None, None]
            xb[b] = pale(x, rng) if rng.random() < args.pale else x
            yb[b] = y
        loss = focal_loss(net(torch.from_numpy(xb)), torch.from_numpy(yb))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        step += 1
        if step % 100 == 0:
            print(
                f"step {step} loss {running:.3f} lr {lr:.5f} {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        if len(val_idx) and time.perf_counter() - train_started >= next_eval:
            next_eval += args.eval_minutes * 60.0
            t, f1, pred, lab = best_row(evaluate(net, data, val_idx, thresholds))
            print(f"eval step {step} threshold {t:.2f} F1 {f1:.3f} {pred}/{lab}", flush=True)
            if f1 > best_f1:
                best_f1 = f1
                torch.save(net.state_dict(), args.out.removesuffix(".onnx") + ".best.pt")
    torch.save(net.state_dict(), args.out.removesuffix(".onnx") + ".pt")
    if not len(val_idx):
        export(net, args.out, channels, height, width)
        print(f"step {step}; wrote {args.out} in {time.perf_counter() - started:.0f} s", flush=True)
        return
    val_rows = evaluate(net, data, val_idx, thresholds)
    for t, f1, pred, lab in val_rows:
        print(f"val threshold {t:.2f} F1 {f1:.3f} detected {pred} labelled {lab}", flush=True)
    t, f1, pred, lab = best_row(val_rows)
    print(f"final step {step} threshold {t:.2f} F1 {f1:.3f} {pred}/{lab}", flush=True)
    export(net, args.out, channels, height, width)
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
