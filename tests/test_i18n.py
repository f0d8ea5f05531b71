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
    finally:
        QCoreApplication.removeTranslator(translator)
