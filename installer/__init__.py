"""Install the plugin's Python dependencies (onnxruntime, optionally CPU torch) from inside
QGIS into a plugin-owned folder of the profile. `core` and `run` hold the logic and import no
QGIS; `task` (QgsTask) and `dialog` are thin layers over them."""
