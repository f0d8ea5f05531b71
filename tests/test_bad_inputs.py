"""Bad inputs and awkward outputs thrown at the `micro-detector` CLI, run as a subprocess the way
a user runs it. Each case checks the exit status (0 done, 1 failed, 2 usage/bad input, 130
Ctrl-C), a one-line message naming the problem, and the files afterwards: nothing of the
user's lost, nothing partial that looks complete."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch
from bad_input_kit import (
    ENV,
    PYTHON,
    cli,
    gpkg_with_user_layers,
    layer_names,
    layer_rows,
    litter,
    make_raster,
    one_line_error,
    sha,
    user_tables,
)


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """A tiny untrained model file (scale n, 64 px, two classes), made once per session."""
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    made = cli("new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", path)
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def rgb(tmp_path):
    """A good 96 px RGB GeoTIFF in its own folder (tmp_path/in)."""
    (tmp_path / "in").mkdir()
    return make_raster(tmp_path / "in" / "rgb.tif")


def detect(raster, output, model, *extra, **kw):
    return cli("detect", raster, "-o", output, "--weights", model, "--tile", "64", "-q", *extra, **kw)


def refused(result, *words, code=2) -> str:
    """Assert a refusal: exit `code`, one line naming each of `words`."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    line = one_line_error(result)
    for word in words:
        assert word.lower() in line.lower(), line
    return line


# --- every option out of range: refused when parsed, before anything is read or written ---

OPTION_CASES = [
    (["--tile", "-64"], "--tile"),
    (["--tile", "0"], "--tile"),
    (["--tile", "50"], "multiple of 32"),
    (["--batch", "0"], "--batch"),
    (["--batch", "-3"], "--batch"),
    (["--batch", "2.5"], "--batch"),
    (["--scale", "0"], "--scale"),
    (["--scale", "-1"], "--scale"),
    (["--scale", "inf"], "--scale"),
    (["--conf", "2"], "--conf"),
    (["--conf", "-0.1"], "--conf"),
    (["--conf", "nan"], "--conf"),
    (["--iou", "1.5"], "--iou"),
    (["--overlap", "-0.1"], "--overlap"),
    (["--conf", "high"], "--conf"),
    (["--merge", "union"], "--merge"),
    (["--backend", "tpu"], "--backend"),
    (["--extent", "1,2,3"], "--extent"),
    (["--extent", "a,b,c,d"], "--extent"),
    (["--bands", "1,x"], "--bands"),
]


@pytest.mark.parametrize("extra, word", OPTION_CASES, ids=[" ".join(c[0]) for c in OPTION_CASES])
def test_option_out_of_range_is_a_usage_error(tmp_path, model, rgb, extra, word):
    out = tmp_path / "o.gpkg"
    result = detect(rgb, out, model, *extra)
    refused(result, word)
    assert not out.exists() and litter(tmp_path) == []


# --- rasters of every band count, data type and nodata layout ---

RASTER_OK = [
    dict(bands=4),
    dict(bands=3, dtype="UInt16"),
    dict(bands=3, dtype="Int16", nodata=-1),
    dict(bands=3, dtype="Float32"),
    dict(bands=3, dtype="Float64"),
    dict(bands=3, dtype="UInt32"),
    dict(nodata=0, layout="half"),
    dict(dtype="Float32", layout="nan"),
    dict(size=20),
    dict(size=200, options=["TILED=YES", "COMPRESS=DEFLATE"]),
]


@pytest.mark.parametrize("spec", RASTER_OK, ids=[str(s) for s in RASTER_OK])
def test_rasters_of_every_type_and_layout_are_detected(tmp_path, model, spec):
    raster = make_raster(tmp_path / "r.tif", **spec)
    before = sha(raster)
    result = detect(raster, tmp_path / "o.gpkg", model)
    assert result.returncode == 0, result.stderr
    assert layer_names(tmp_path / "o.gpkg") == ["detections"]
    assert sha(raster) == before and sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg", "r.tif"]


def test_all_nodata_raster_warns_that_no_tile_ran(tmp_path, model):
    raster = make_raster(tmp_path / "r.tif", nodata=0, layout="all")
    result = detect(raster, tmp_path / "o.gpkg", model)
    assert result.returncode == 0, result.stderr
    assert "every tile is nodata" in result.stderr and layer_rows(tmp_path / "o.gpkg") == []


def test_grey_raster_runs_with_its_band_repeated(tmp_path, model):
    """One grey band is repeated to the model's three: said in the log, and the same run as
    asking for the repeat with --bands 1,1,1."""
    raster = make_raster(tmp_path / "g.tif", bands=1)
    auto = cli("detect", raster, "-o", tmp_path / "auto.gpkg", "--weights", model, "--tile", "64", "--conf", "0.001")
    assert auto.returncode == 0, auto.stderr
    assert "single grey band 1 repeated to the model's 3 bands" in auto.stderr
    asked = detect(raster, tmp_path / "asked.gpkg", model, "--bands", "1,1,1", "--conf", "0.001")
    assert asked.returncode == 0, asked.stderr
    assert layer_rows(tmp_path / "auto.gpkg") == layer_rows(tmp_path / "asked.gpkg")


def test_plain_raster_needs_pixel_coordinates(tmp_path, model):
    raster = make_raster(tmp_path / "p.tif", georef=False)
    refused(detect(raster, tmp_path / "o.gpkg", model), "not georeferenced")
    assert not (tmp_path / "o.gpkg").exists()
    assert detect(raster, tmp_path / "o.gpkg", model, "--pixel-coordinates").returncode == 0


def test_plain_raster_advice_is_complete_for_a_model_with_a_gsd(tmp_path):
    """The first message gives all a run in pixel coordinates needs: with the default model,
    trained at a GSD, also --gsd or --scale; following it works at once (issue 27)."""
    raster = make_raster(tmp_path / "p.tif", georef=False)
    out = tmp_path / "o.gpkg"
    line = refused(
        cli("detect", raster, "-o", out, "-q"), "not georeferenced", "--pixel-coordinates", "--gsd", "--scale"
    )
    assert "trained at" in line and not out.exists()
    done = cli("detect", raster, "-o", out, "-q", "--pixel-coordinates", "--gsd", "0.3")
    assert done.returncode == 0, done.stderr
    assert cli("detect", raster, "-o", tmp_path / "s.gpkg", "-q", "--pixel-coordinates", "--scale", "1").returncode == 0


def _truncated(tmp_path):
    good = make_raster(tmp_path / "good.tif", size=128)
    data = good.read_bytes()
    (tmp_path / "r.tif").write_bytes(data[: len(data) // 3])


def _damaged(tmp_path):
    (tmp_path / "r.tif").write_bytes(b"II*\x00" + os.urandom(3000))


BAD_RASTERS = {
    "missing": (lambda p: None, "not found"),
    "empty file": (lambda p: (p / "r.tif").write_bytes(b""), "r.tif"),
    "text file": (lambda p: (p / "r.tif").write_text("hello, not a raster\n"), "r.tif"),
    "damaged header": (_damaged, "r.tif"),
    "truncated": (_truncated, "r.tif"),
    # one grey band is not refused: it is repeated to the model's bands (panchromatic imagery)
    "two bands": (lambda p: make_raster(p / "r.tif", bands=2), "2 band"),
    "vector file": (lambda p: (p / "r.tif").write_text('{"type": "FeatureCollection", "features": []}'), "r.tif"),
}


@pytest.mark.parametrize("case", list(BAD_RASTERS))
def test_unusable_raster_is_refused_with_its_problem(tmp_path, model, case):
    make, word = BAD_RASTERS[case]
    make(tmp_path)
    result = detect(tmp_path / "r.tif", tmp_path / "o.gpkg", model)
    assert result.returncode in (1, 2), result.stderr
    refused(result, word, code=result.returncode)
    assert not (tmp_path / "o.gpkg").exists() and litter(tmp_path) == []


@pytest.mark.parametrize(
    "extra, word",
    [
        (["--bands", "5,1,2"], "do not exist"),
        (["--bands", "1,2"], "takes 3 band"),
        (["--classes", "zebra"], "zebra"),
        (["--mask", "nowhere.gpkg"], "mask"),
        (["--extent", "0,0,10,10"], "extent"),
        (["--extent", "11.5,48.1,11.6,48.2"], "extent"),
    ],
)
def test_options_that_do_not_fit_the_raster_or_model(tmp_path, model, rgb, extra, word):
    result = detect(rgb, tmp_path / "o.gpkg", model, *extra, cwd=tmp_path)
    refused(result, word)
    assert not (tmp_path / "o.gpkg").exists()


def test_mask_that_is_not_a_vector_file(tmp_path, model, rgb):
    (tmp_path / "mask.gpkg").write_text("no polygons here")
    refused(detect(rgb, tmp_path / "o.gpkg", model, "--mask", tmp_path / "mask.gpkg"), "mask")


# --- model files: damaged, foreign, hostile ---


def _hostile(path):
    """A pickle whose loading would run a command: must be refused, never executed."""

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {path.parent / 'PWNED'}",))

    torch.save({"format": "micro-detector-model", "x": Payload()}, path)


def _non_tensor_state(path, model):
    payload = torch.load(model, weights_only=True)
    payload["state_dict"][next(iter(payload["state_dict"]))] = 3
    torch.save(payload, path)


WEIGHTS = {
    "missing": (lambda p, m: None, "not found"),
    "random bytes": (lambda p, m: p.write_bytes(os.urandom(4000)), "not a micro-detector model"),
    "truncated": (lambda p, m: p.write_bytes(m.read_bytes()[:5000]), "m.pt"),
    "hostile pickle": (lambda p, m: _hostile(p), "refused: it holds Python objects"),
    "non-tensor weights": (_non_tensor_state, "tensor"),
    "foreign torch file": (lambda p, m: torch.save({"weights": torch.zeros(2)}, p), "not a micro-detector model"),
}


@pytest.mark.parametrize("case", list(WEIGHTS))
def test_bad_model_file_is_refused(tmp_path, model, rgb, case):
    make, word = WEIGHTS[case]
    make(tmp_path / "m.pt", model)
    refused(detect(rgb, tmp_path / "o.gpkg", tmp_path / "m.pt"), word)
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "o.gpkg").exists()


@pytest.mark.parametrize("case", ["random bytes", "hostile pickle", "model file", "missing"])
def test_train_resume_with_a_bad_file(tmp_path, model, case):
    path = tmp_path / "last.pt"
    {
        "random bytes": lambda: path.write_bytes(os.urandom(3000)),
        "hostile pickle": lambda: _hostile(path),
        "model file": lambda: path.write_bytes(model.read_bytes()),
        "missing": lambda: None,
    }[case]()
    result = cli(
        "train", "--resume", path, "--out", tmp_path / "run", "--xview", tmp_path / "x.geojson", "--images", tmp_path
    )
    refused(result, "last.pt")
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["bad json", "wrong fields", "no metadata", "random bytes"])
def test_onnx_with_bad_spec_metadata(tmp_path, model, rgb, case):
    import onnx

    onnx_path = tmp_path / "m.onnx"
    if case == "random bytes":
        onnx_path.write_bytes(os.urandom(2000))
    else:
        assert cli("export", model, "-o", onnx_path, "--static").returncode == 0
        proto = onnx.load(str(onnx_path))
        meta = {p.key: p for p in proto.metadata_props}["micro_detector_spec"]
        if case == "no metadata":
            proto.metadata_props.remove(meta)
        else:
            meta.value = "{not json" if case == "bad json" else '{"scale": "n", "colour": 3}'
        onnx.save(proto, str(onnx_path))
    word = {"no metadata": "not exported by micro-detector", "random bytes": "not a readable ONNX"}.get(
        case, "metadata"
    )
    refused(detect(rgb, tmp_path / "o.gpkg", onnx_path), word)


# --- outputs in every awkward place ---


def test_output_is_a_geopackage_raster_used_as_input(tmp_path, model):
    gpkg = gpkg_with_user_layers(tmp_path / "data.gpkg")
    before = sha(gpkg)
    refused(detect(gpkg, gpkg, model), "is an input")
    refused(detect(f"GPKG:{gpkg}:ortho", gpkg, model), "is an input")
    assert sha(gpkg) == before


def test_output_is_the_input_tiff(tmp_path, model, rgb):
    before = sha(rgb)
    refused(detect(rgb, rgb, model, "--overwrite"), "is an input")
    assert sha(rgb) == before


def test_output_is_the_mask(tmp_path, model, rgb):
    gpkg = gpkg_with_user_layers(tmp_path / "data.gpkg")
    before = sha(gpkg)
    refused(detect(rgb, gpkg, model, "--mask", gpkg), "is an input")
    assert sha(gpkg) == before


@pytest.mark.parametrize(
    "where, word",
    [
        ("folder", "is a folder"),
        ("missing folder", "does not exist"),
        ("under a file", "does not exist"),
        ("unknown format", "unknown vector format"),
        ("no extension", "unknown vector format"),
    ],
)
def test_output_in_an_awkward_place_is_refused_before_any_work(tmp_path, model, rgb, where, word):
    (tmp_path / "afile").write_text("x")
    out = {
        "folder": tmp_path,
        "missing folder": tmp_path / "no" / "o.gpkg",
        "under a file": tmp_path / "afile" / "o.gpkg",
        "unknown format": tmp_path / "o.xyz",
        "no extension": tmp_path / "out",
    }[where]
    result = detect(rgb, out, model)
    refused(result, word)
    assert "tiles" not in result.stderr  # refused before reading a tile
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "in"]


def test_read_only_folder(model):
    # root writes anywhere, so as root the run is made as nobody, in a folder nobody can read
    top = Path(tempfile.mkdtemp(prefix="ro-"))
    try:
        folder = top / "shared"
        folder.mkdir()
        raster = make_raster(folder / "r.tif")
        shutil.copy(model, top / "m.pt")
        os.chmod(top, 0o755)
        os.chmod(folder, 0o555)
        result = detect(raster, folder / "o.gpkg", top / "m.pt", user=65534 if os.geteuid() == 0 else None)
        refused(result, "not writable")
        assert sorted(p.name for p in folder.iterdir()) == ["r.tif"]
    finally:
        os.chmod(top / "shared", 0o755)
        shutil.rmtree(top)


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "shp", "fgb"])
def test_existing_output_needs_overwrite(tmp_path, model, rgb, ext):
    out = tmp_path / f"o.{ext}"
    assert detect(rgb, out, model).returncode == 0
    before = sha(out)
    refused(detect(rgb, out, model), "--overwrite")
    assert sha(out) == before and litter(tmp_path) == []
    assert detect(rgb, out, model, "--overwrite").returncode == 0
    assert layer_rows(out) and litter(tmp_path) == []


def test_geopackage_keeps_the_users_layers(tmp_path, model, rgb):
    gpkg = gpkg_with_user_layers(tmp_path / "project.gpkg")
    kept = user_tables(gpkg)
    assert detect(rgb, gpkg, model).returncode == 0
    first = layer_rows(gpkg, "detections")
    assert first and user_tables(gpkg) == kept
    assert layer_names(gpkg) == ["detections", "notes", "zones"]
    before = sha(gpkg)
    refused(detect(rgb, gpkg, model), "already has a layer", "--overwrite")
    assert sha(gpkg) == before
    assert detect(rgb, gpkg, model, "--overwrite", "--conf", "0.5").returncode == 0
    assert user_tables(gpkg) == kept and len(layer_rows(gpkg, "detections")) < len(first)
    assert detect(rgb, gpkg, model, "--layer", "second").returncode == 0
    assert layer_names(gpkg) == ["detections", "notes", "second", "zones"] and user_tables(gpkg) == kept
    assert litter(tmp_path) == []


@pytest.mark.parametrize("layer, word", [("ortho", "tiles table"), ("notes", "attributes table")])
def test_layer_named_like_another_kind_of_table_is_refused(tmp_path, model, rgb, layer, word):
    gpkg = gpkg_with_user_layers(tmp_path / "project.gpkg")
    before = sha(gpkg)
    refused(detect(rgb, gpkg, model, "--layer", layer, "--overwrite"), word)
    assert sha(gpkg) == before


def test_existing_gpkg_that_is_not_a_geopackage(tmp_path, model, rgb):
    out = tmp_path / "notes.gpkg"
    out.write_text("my notes, not a GeoPackage")
    refused(detect(rgb, out, model, "--overwrite"), "notes.gpkg")
    assert out.read_text() == "my notes, not a GeoPackage"


def test_csv_output_holds_wkt_polygons(tmp_path, model, rgb):
    assert detect(rgb, tmp_path / "o.csv", model).returncode == 0
    header = (tmp_path / "o.csv").read_text().splitlines()[0]
    assert header.startswith("WKT,") and "score" in header
    rows = layer_rows(tmp_path / "o.csv")
    assert rows and all(wkt.startswith("POLYGON") for wkt, _ in rows) or rows == []


def test_shapefile_overwrite_leaves_no_stale_side_file(tmp_path, model, rgb):
    assert detect(rgb, tmp_path / "o.shp", model).returncode == 0
    (tmp_path / "o.qix").write_bytes(b"stale index")
    assert detect(rgb, tmp_path / "o.shp", model, "--overwrite").returncode == 0
    assert not (tmp_path / "o.qix").exists() and (tmp_path / "o.dbf").exists()


# --- Ctrl-C ---


@pytest.mark.slow
def test_ctrl_c_during_detect_exits_130_with_one_line_and_no_output(tmp_path, model):
    raster = make_raster(tmp_path / "big.tif", size=1600)
    out = tmp_path / "o.gpkg"
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "micro_detector",
            "detect",
            str(raster),
            "-o",
            str(out),
            "--weights",
            str(model),
            "--tile",
            "64",
            "--batch",
            "1",
        ],
        env=ENV,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # a suite started in the background inherits SIGINT ignored, and so
        # would the CLI (Python then sets no handler): give it the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = ""
    while "tiles/s" not in seen:  # the progress bar shows: tiles are being inferred
        char = proc.stderr.read(1)
        assert char, seen
        seen += char
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + rest
    assert "Traceback" not in rest
    last = rest.strip().splitlines()[-1]
    assert "interrupted" in last and "nothing was written" in last
    assert not out.exists() and litter(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["big.tif"]


# --- detect-folder ---


def _folder(tmp_path, names=("a", "b"), bad=()):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name in names:
        make_raster(folder / f"{name}.tif", size=64)
    for name in bad:
        (folder / f"{name}.tif").write_bytes(b"II*\x00broken")
    return folder


def batch(folder, out, model, *extra):
    return cli("detect-folder", folder, "-o", out, "--weights", model, "--tile", "64", "-q", *extra)


def test_folder_output_that_is_a_file_is_refused(tmp_path, model):
    folder = _folder(tmp_path)
    (tmp_path / "out.gpkg").write_text("mine")
    refused(batch(folder, tmp_path / "out.gpkg", model), "is a file")
    assert (tmp_path / "out.gpkg").read_text() == "mine"


def test_folder_invalid_format_is_refused_once_up_front(tmp_path, model):
    folder = _folder(tmp_path)
    result = refused(batch(folder, tmp_path / "out", model, "--format", "xyz"), "unknown vector format")
    assert result.count("xyz") >= 1 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("case, word", [("missing folder", "not found"), ("no match", "no raster matches")])
def test_folder_without_rasters(tmp_path, model, case, word):
    folder = tmp_path / "in"
    if case == "no match":
        folder.mkdir()
        (folder / "notes.txt").write_text("x")
    refused(batch(folder, tmp_path / "out", model), word)
    assert not (tmp_path / "out").exists()


def test_folder_where_every_raster_fails_exits_1_and_says_which(tmp_path, model):
    folder = _folder(tmp_path, names=(), bad=("x", "y"))
    result = batch(folder, tmp_path / "out", model)
    assert result.returncode == 1, result.stderr
    rows = list(csv.DictReader(open(tmp_path / "out" / "summary.csv")))
    assert [(r["raster"], r["status"]) for r in rows] == [("x.tif", "error"), ("y.tif", "error")]
    assert all("x.tif" in r["error"] or "y.tif" in r["error"] for r in rows)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.csv"]


def test_folder_with_some_failures_exits_1_and_keeps_the_good_outputs(tmp_path, model):
    folder = _folder(tmp_path, names=("a", "c"), bad=("b",))
    result = batch(folder, tmp_path / "out", model)
    assert result.returncode == 1 and "b.tif" in result.stderr
    rows = {r["raster"]: r for r in csv.DictReader(open(tmp_path / "out" / "summary.csv"))}
    assert {k: r["status"] for k, r in rows.items()} == {"a.tif": "ok", "b.tif": "error", "c.tif": "ok"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.gpkg", "c.gpkg", "summary.csv"]


def test_folder_resume_skips_and_overwrite_redoes(tmp_path, model):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    assert batch(folder, out, model).returncode == 0
    before = {name: sha(out / name) for name in ("a.gpkg", "b.gpkg")}
    again = batch(folder, out, model)
    assert again.returncode == 0 and again.stderr.count("done before, skipped") == 2
    assert {name: sha(out / name) for name in before} == before
    redo = batch(folder, out, model, "--overwrite", "--conf", "0.9")
    assert redo.returncode == 0 and "skipped" not in redo.stderr
    assert all(layer_rows(out / name) == [] for name in before)


def test_folder_removes_the_litter_of_a_dead_run_but_not_of_a_live_one(tmp_path, model):
    import socket

    folder = _folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    host = socket.gethostname().split(".")[0]
    dead = subprocess.Popen(["true"])  # a process id that is surely over
    dead.wait()
    stale = out / f".a.{host}-{dead.pid}.x1.partial"
    live = out / f".b.{host}-{os.getpid()}.x2.partial"
    for partial in (stale, live):
        partial.mkdir()
        (partial / "half.gpkg").write_bytes(b"half")
    (out / "summary.csv.part").write_text("half")
    assert batch(folder, out, model).returncode == 0
    assert not stale.exists() and live.exists() and not (out / "summary.csv.part").exists()


def test_folder_outputs_never_replace_inputs(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    make_raster(folder / "a.gpkg", size=64, driver="GPKG")
    before = sha(folder / "a.gpkg")
    refused(batch(folder, folder, model, "--pattern", "*.gpkg"), "would replace an input")
    assert sha(folder / "a.gpkg") == before


def test_folder_writes_into_an_existing_geopackage_layer_by_layer(tmp_path, model):
    folder = _folder(tmp_path, names=("project",))
    out = tmp_path / "out"
    out.mkdir()
    gpkg = gpkg_with_user_layers(out / "project.gpkg")
    kept = user_tables(gpkg)
    assert batch(folder, out, model).returncode == 0
    assert user_tables(gpkg) == kept and "detections" in layer_names(gpkg)


@pytest.mark.parametrize(
    "extra, word",
    [
        (["--workers", "0"], "--workers"),
        (["--task-timeout", "-1"], "--task-timeout"),
        (["--batch", "0"], "--batch"),
        (["--layer", ""], "layer"),
    ],
)
def test_folder_option_out_of_range_is_a_usage_error(tmp_path, model, extra, word):
    folder = _folder(tmp_path)
    refused(batch(folder, tmp_path / "out", model, *extra), word)
    assert not (tmp_path / "out").exists()
