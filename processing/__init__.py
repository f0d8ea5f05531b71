"""QGIS Processing provider: thin adapters from Processing parameters to the core.

Only ever imported as a subpackage of the plugin (relative imports), so it never shadows
QGIS's own top-level `processing` module.
"""
