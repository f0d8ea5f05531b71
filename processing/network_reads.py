"""Reading web layers (XYZ, WMS) from an algorithm that runs on QGIS's main thread, and the
tile requests that failed.

Why: the engine reads windows on its own reader thread, and the `wms` provider fetches tiles
there through that thread's QgsNetworkAccessManager. When a server asks for a login (401) or
presents a certificate that is not trusted, that manager waits, with no timeout, for the main
thread's manager to handle the request (QgsNetworkAccessManager::onAuthRequired and
onReplySslErrors in QGIS 3.22). Under `qgis_process`, and `processing.run` from the Python
console, the algorithm itself runs on the main thread, which sat blocked waiting for tiles:
the run hung for ever. So on the main thread the detection runs on a helper thread while the
main thread keeps handling Qt events. In the desktop's dialog the algorithm runs in a task
thread and the main thread is free: nothing changes there.

A tile the server refuses comes back transparent, which the engine counts as no data, so
such failures are also collected (missing tiles, 404, are normal at a layer's edges and are
not) and reported as one warning.
"""

from __future__ import annotations

import threading

from qgis.core import QgsNetworkAccessManager, QgsNetworkReplyContent
from qgis.PyQt.QtCore import QCoreApplication, QEventLoop, QThread
from qgis.PyQt.QtNetwork import QNetworkReply

from .translate import tr

QUIET_ERRORS = (QNetworkReply.NetworkError.NoError, QNetworkReply.NetworkError.ContentNotFoundError)


def on_main_thread() -> bool:
    """True on the thread of the QGIS application (qgis_process and console runs)."""
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() == app.thread()


def run_handling_events(work):
    """`work()`, on a helper thread while this thread handles Qt events when this is the
    main thread (see the module docstring), else directly. Returns its value or raises its
    exception."""
    if not on_main_thread():
        return work()
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:  # raised again on the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="micro-detector-detect", daemon=True)
    thread.start()
    while thread.is_alive():
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        thread.join(0.05)
    QCoreApplication.processEvents()  # the last queued replies and progress reports
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class FailedRequests:
    """Network requests that failed while it is open (every thread's manager reports its
    finished replies to the main thread's), except missing tiles. Collects on the main thread
    only, where run_handling_events delivers those reports; elsewhere (the desktop's task
    thread, which runs no event loop) it does nothing and QGIS's log shows the failures."""

    def __init__(self):
        self.failures: list[tuple[str, str]] = []
        self._active = False

    def __enter__(self) -> FailedRequests:
        self._active = on_main_thread()
        if self._active:
            self._signal().connect(self._finished)
        return self

    def __exit__(self, *exc) -> None:
        if self._active:
            self._signal().disconnect(self._finished)
            self._active = False

    def _signal(self):
        # the overload other threads' managers forward to the main thread's
        return QgsNetworkAccessManager.instance().finished[QgsNetworkReplyContent]

    def _finished(self, reply) -> None:
        if reply.error() not in QUIET_ERRORS:
            self.failures.append((reply.request().url().toString(), reply.errorString()))

    def summary(self) -> str | None:
        """One line naming how many requests failed and the first failure, or None."""
        if not self.failures:
            return None
        url, why = self.failures[0]
        return tr("{} tile request(s) failed, e.g. {}: {}").format(len(self.failures), url, why)
