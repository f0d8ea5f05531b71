"""Training: datasets from labels, augmentation, loss, trainer, evaluation (no QGIS imports)."""
