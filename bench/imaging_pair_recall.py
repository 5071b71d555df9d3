"""Network-peak recall of paired and lone labelled exits on the held-out tuning images.

    PYTHONPATH=src python bench/imaging_pair_recall.py NETWORK.onnx[@THRESHOLD] ...

A labelled exit is *paired* when another labelled exit lies within 30 source px (the second
hair of a multi-hair unit, the miss issue 15's training direction aims at), *lone* otherwise.
Peaks of each network's heat map above THRESHOLD (default 0.26, the shipped peak threshold)
are matched one-to-one within 15 px, as in bench/imaging_train_cnn.py's validation (labels
in the top 32 rows left out). No rescoring: this is what the network itself finds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_train_cnn import load_split  # noqa: E402

from mesoclinic.imaging.cnn_detector import heat_peaks  # noqa: E402
from mesoclinic.imaging.matching import match_points  # noqa: E402

PAIR_DISTANCE_PX = 30.0
MATCH_PX = 15.0


def main() -> None:
    import onnxruntime as ort  # noqa: PLC0415

    data = load_split()
    val = np.nonzero(data["val"])[0]
    for argument in sys.argv[1:]:
        path, _, threshold = argument.partition("@")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        found = {True: 0, False: 0}
        total = {True: 0, False: 0}
        detections = 0
        for i in val:
            x = data["inputs"][i].astype(np.float32)
            logits = session.run(None, {"input": x[None]})[0][0, 0]
            heat = (1 / (1 + np.exp(-logits))).astype(np.float32)
            peaks = heat_peaks(heat, float(threshold or 0.26))
            scale = float(data["scales"][i])
            detected = np.stack(
                [(peaks[:, 1] * 2 + 1) * scale - 0.5, (peaks[:, 0] * 2 + 1) * scale - 0.5], 1
            ).reshape(-1, 2)
            truth = np.asarray(data["points"][i], dtype=np.float64).reshape(-1, 2)
            truth = truth[truth[:, 1] >= 32]
            gaps = np.hypot(
                truth[:, None, 0] - truth[None, :, 0], truth[:, None, 1] - truth[None, :, 1]
            )
            np.fill_diagonal(gaps, np.inf)
            paired = gaps.min(axis=1, initial=np.inf) < PAIR_DISTANCE_PX
            matched = {j for _, j in match_points(detected, truth, MATCH_PX)}
            detections += len(detected)
            for j, is_paired in enumerate(paired):
                total[bool(is_paired)] += 1
                found[bool(is_paired)] += j in matched
        print(
            f"{path} threshold {float(threshold or 0.26):.2f}: paired recall "
            f"{found[True]}/{total[True]} = {found[True] / max(total[True], 1):.3f}, lone recall "
            f"{found[False]}/{total[False]} = {found[False] / max(total[False], 1):.3f}, "
            f"detections {detections}",
            flush=True,
        )


if __name__ == "__main__":
    main()
