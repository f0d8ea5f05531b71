"""Building the many-source training corpus from fetched public repositories.

`scripts/build_corpus.py` is the command. The facts about each source (repository, commit,
files and their SHA-256, licence, GSD, classes) are manifests in `training/datasets/corpus/`;
the reserved (held-out) data are described by `reserved_blocklist.json` there.

Modules: `mirror` (reading files of a bare git snapshot at a commit), `imagehash` (SHA-256
and the 64-bit dHash), `reserved` (provenance rules and the near-duplicate check), `manifest`
(the per-source manifest), `extract` (images and objects of a source, through the label
importers), `placement` (georeferencing: true, or assigned north-up UTM), `writer` (GeoTIFF,
xView GeoJSON, images.json, README in micro4's format).
"""
