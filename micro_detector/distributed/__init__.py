"""detect-folder on Dask distributed (optional: `pip install "dask[distributed]"`).

    cluster.py  ClusterOptions, the Dask check, the client on a LocalCluster or a scheduler
    client.py   the run in this process: plan, submit, collect, write, summary rows
    worker.py   what runs on a worker: the model cache and the detection task
    blocks.py   work units: a raster, or blocks of the windows of a huge one

Imports point one way, client -> worker -> blocks -> engine; Dask itself is imported only
inside functions, when a cluster is asked for.
"""

from .client import FolderProgress, detect_folder_dask, run_from_cli
from .cluster import DASK_REQUIREMENT, ClusterOptions, require_dask

__all__ = ["ClusterOptions", "DASK_REQUIREMENT", "FolderProgress", "detect_folder_dask", "require_dask", "run_from_cli"]
