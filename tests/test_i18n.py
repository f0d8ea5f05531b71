"""Translations: the French .ts covers every string of the code and its .qm translates."""

import importlib
import subprocess
import sys

from conftest import ROOT
from qgis.PyQt.QtCore import QCoreApplication


def test_translation_sources_cover_every_string_of_the_code():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_translations.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_french_translation_is_compiled_and_used(qgis_app):
    plugin = importlib.import_module("micro_object_detection.plugin")
    translator = plugin.load_translator("fr_FR")
    assert translator is not None
    QCoreApplication.installTranslator(translator)
    try:
        from micro_object_detection.processing.algorithms.detect import DetectAlgorithm

        alg = DetectAlgorithm()
        alg.initAlgorithm()
        assert alg.displayName() == "Détecter des micro-objets"
        assert alg.parameterDefinition("CONF").description() == "Confiance minimale"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert DetectAlgorithm().displayName() == "Detect micro objects"
    assert plugin.load_translator("xx") is None


def test_french_reaches_installer_menu_legends_and_engine_lines(qgis_app):
    plugin = importlib.import_module("micro_object_detection.plugin")
    translator = plugin.load_translator("fr_FR")
    QCoreApplication.installTranslator(translator)
    try:
        from micro_object_detection.installer.dialog import InstallDialog
        from micro_object_detection.processing.engine_log import translated
        from micro_object_detection.processing.styles import detection_renderer

        dialog = InstallDialog()
        assert dialog.windowTitle() == "Détection de micro-objets : installer les dépendances"
        assert dialog.install_button.text() == "Installer" and dialog.copy_button.text() == "Copier le diagnostic"
        assert plugin.MicroDetectorPlugin(None).menu() == "&Détection de micro-objets"
        labels = [c.label() for c in detection_renderer(["boat", "vehicle", "tank"]).categories()]
        assert labels == ["bateau", "véhicule", "tank"]
        assert translated("wrote 40 objects to /x/d.gpkg") == "40 objets écrits dans /x/d.gpkg"
        assert translated("a.tif: done before, skipped") == "a.tif : déjà fait, sauté"
        assert translated("an unknown line: kept") == "an unknown line: kept"
        # the engine's own lines, with the warning's text and the plan's reason translated too
        from micro_object_detection.micro_detector.remote import layout_warning

        class Striped:  # a GDAL dataset of one-row blocks, as layout_warning reads it
            def GetRasterBand(self, n):  # noqa: N802 (GDAL API)
                return type("Band", (), {"GetBlockSize": lambda self: [12000, 1]})()

        warning = translated(f"warning: scene.tif: {layout_warning(Striped(), 12000)}")
        assert warning.startswith("avertissement : scene.tif : pas un GeoTIFF tuilé") and "23x les octets" in warning
        line = (
            "320 x 377 px, 4 tiles of 256 px (model 256 px, scale 1.000: native pixels: raster GSD 0.13 m 13% "
            "finer than the model's 0.15-0.6 m, within the 25% left as is), overlap 51 px"
        )
        assert translated(line) == (
            "320 x 377 px, 4 tuiles de 256 px (modèle 256 px, échelle 1.000 : pixels natifs : résolution du raster "
            "0.13 m, 13 % plus fine que celle du modèle (0.15-0.6 m), dans les 25 % laissés tels quels), "
            "recouvrement 51 px"
        )
        assert translated("read 0.30 MB in 4 requests") == "0.30 Mo lus en 4 requêtes"
    finally:
        QCoreApplication.removeTranslator(translator)
