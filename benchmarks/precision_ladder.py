"""Accuracy and speed of each inference precision on the micro ladder, and the record
`--precision auto` reads.

    .venv/bin/python benchmarks/precision_ladder.py [--model M] [--precisions fp32,bf16,fp16,int8]
        [--device cpu] [--calibration RASTER ...] [--limit N] [--rungs native,24,16,11]
        [any other option of micro_ladder.py]

The model defaults to resources/models/default.pt. Every precision runs on the OpenVINO backend
through the tiled engine over the ladder of micro_ladder.py (same rungs, same scoring);
fp32 is the reference. Printed: mAP50 per rung and precision, the largest loss against fp32,
ms per tile (the engine's forward time), speed against fp32, and the verdict of the rules in
micro_detector/model/precision.py (auto: loss <= 0.005 on every rung; int8 kept only at
>= 1.5x fp32's speed and <= 0.01 loss).

A full run (no --limit) writes the record beside the model (`<stem>.precision.json`, keyed
by the model's SHA-256); that is what lets `auto` pick a reduced precision. A run with
--limit is a check of the script, never a measurement: it writes into the work folder only.
A precision the device does not compute natively (bf16 on a CPU without AVX512-BF16 or AMX)
runs emulated or as fp32: its row says which ran.

int8 is calibrated on `--calibration` rasters (default: the bundled demo rasters; never the
validation images). The earlier ONNX Runtime int8 attempt and why it lost 0.34 mAP50:
benchmarks/ort_int8_autopsy.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import micro_ladder  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    p.add_argument("--precisions", default="fp32,bf16,fp16,int8")
    p.add_argument("--device", default="cpu", help="cpu | intel:gpu | intel:npu")
    p.add_argument("--calibration", type=Path, nargs="*", help="rasters for int8 calibration")
    p.add_argument(
        "--record", type=Path, help="where the record goes (default: beside the model; with --limit: the work folder)"
    )
    args, rest = p.parse_known_args(argv)
    ladder = micro_ladder.parse_args([str(args.model), *rest])
    if "fp32" not in args.precisions.split(","):
        p.error("--precisions must include fp32, the reference")
    return args, ladder


def run(args, ladder) -> dict:
    from micro_detector.model.ov_open import export_for, model_sha, open_openvino
    from micro_detector.training.evaluate import EvalOptions, eval_detect_options

    rungs, facts = micro_ladder.build_ladder(ladder)
    onnx_path, _ = export_for(args.model)
    measured = {}
    for precision in args.precisions.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unmeasured precisions warn: measuring them is the point
            runner = open_openvino(
                args.model, args.device, precision, None, None, "precision ladder", calibration=args.calibration
            )
        options = EvalOptions(
            eval_detect_options(batch=ladder.batch, device="cpu", backend="openvino"),
            confusion_conf=ladder.confusion_conf,
        )
        row = {"ran": runner.effective_precision, "mAP50": {}, "mAP50-95": {}}
        forward, tiles = 0.0, 0
        for rung, folder in rungs:
            start = time.perf_counter()
            got = micro_ladder.evaluate_rung(
                runner, folder, options, Path(ladder.work) / "eval" / f"precision-{precision}" / rung
            )
            row["mAP50"][rung], row["mAP50-95"][rung] = got["all"]["mAP50"], got["all"]["mAP50-95"]
            forward += (got["forward_ms_per_tile"] or 0) * got["tiles"]
            tiles += got["tiles"]
            micro_ladder.log(
                f"{precision} on {rung}: mAP50 {got['all']['mAP50']:.4f} ({time.perf_counter() - start:.0f} s)"
            )
        row["ms_per_tile"] = forward / tiles if tiles else None
        measured[precision] = row
    return {
        "model": str(args.model),
        "model_sha256": model_sha(args.model, onnx_path),
        "backend": "openvino",
        "device": args.device,
        "measured": measured,
        "images": len(facts.get("images", [])),
        "limit": ladder.limit,
        "rungs": [r for r, _ in rungs],
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "benchmarks/precision_ladder.py " + " ".join(sys.argv[1:]),
    }


def report(record: dict) -> str:
    from micro_detector.model import precision as prec

    rungs = record["rungs"]
    lines = [
        "| precision | ran as | "
        + " | ".join(f"mAP50 {r}" for r in rungs)
        + " | max loss | ms/tile | vs fp32 | auto may take it |",
        "|---|---|" + "---|" * len(rungs) + "---|---|---|---|",
    ]
    for name, row in record["measured"].items():
        lost, fast = prec.loss(record, name), prec.speedup(record, name)
        verdict = "reference" if name == "fp32" else ("yes" if prec.acceptable(record, name) else "no")
        lines.append(
            f"| {name} | {row['ran']} | "
            + " | ".join(f"{row['mAP50'][r]:.4f}" for r in rungs)
            + f" | {lost if lost is not None else float('nan'):.4f} | {row['ms_per_tile'] or 0:.1f} | "
            f"{fast or 0:.2f}x | {verdict} |"
        )
    note = "PARTIAL (--limit): a check of the script, not a measurement" if record["limit"] else "full ladder"
    return (
        "\n".join(
            lines
            + [
                "",
                f"- {note}; model {record['model']} ({record['model_sha256'][:12]}), "
                f"backend {record['backend']} on {record['device']}, {record['date']}",
            ]
        )
        + "\n"
    )


def main(argv=None) -> int:
    from micro_detector.model.precision import record_path

    args, ladder = parse_args(argv)
    record = run(args, ladder)
    target = args.record or (Path(ladder.work) / "precision_subset.json" if ladder.limit else record_path(args.model))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=1) + "\n")
    text = report(record)
    target.with_suffix(".txt").write_text(text)
    print(text)
    micro_ladder.log(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
