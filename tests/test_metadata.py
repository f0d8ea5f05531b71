"""metadata.txt is complete and valid for the official QGIS plugin repository."""

import configparser
import re

from conftest import ROOT

REQUIRED = [
    "name",
    "qgisMinimumVersion",
    "description",
    "about",
    "version",
    "author",
    "email",
    "tracker",
    "repository",
    "tags",
    "category",
    "icon",
    "experimental",
    "hasProcessingProvider",
]


def read_metadata():
    parser = configparser.ConfigParser()
    parser.optionxform = str  # keys are case-sensitive for QGIS
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]


def test_required_keys_present_and_non_empty():
    meta = read_metadata()
    missing = [key for key in REQUIRED if not meta.get(key, "").strip()]
    assert missing == []


def test_values_are_valid():
    meta = read_metadata()
    assert meta["qgisMinimumVersion"] == "3.22"
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    assert meta["category"] == "Raster"
    assert meta["hasProcessingProvider"] == "yes"
    assert meta["experimental"] in ("True", "False")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", meta["email"])
    for key in ("tracker", "repository"):
        assert meta[key].startswith("https://")
    assert (ROOT / meta["icon"]).is_file()
    assert len(meta["about"]) > len(meta["description"])


def test_version_matches_core_package():
    from micro_detector import __version__

    assert read_metadata()["version"] == __version__
