"""The algorithm dialog, opened wide enough for what it holds.

QGIS opens every Processing dialog at the size it saved last (688 x 523 on a first run), with a
splitter between the parameters and the help. Anything wider than the parameters panel brings a
horizontal scrollbar: in French, QGIS's own checkbox "Ouvrir le fichier en sortie après
l'exécution de l'algorithme" is 405 px, wider than the panel. Labels cannot wrap inside a
checkbox, so the dialog grows instead: once shown, it widens by what the panel lacks (as far as
the screen allows); what the panel still lacks after that (the splitter shares the new width
between both sides) is taken from the help side, which keeps HELP_MIN_WIDTH.
"""

from __future__ import annotations

from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QScrollArea, QSplitter

HELP_MIN_WIDTH = 160  # px the help panel keeps when the screen leaves no room to grow


def fitting_dialog(alg, parent):
    """A Processing AlgorithmDialog for `alg` that widens to fit its parameters; None where
    QGIS's Processing plugin (its dialogs) is not there, so QGIS falls back to its own."""
    try:
        from processing.gui.AlgorithmDialog import AlgorithmDialog
    except ImportError:
        return None

    class FittingDialog(AlgorithmDialog):
        def showEvent(self, event):  # noqa: N802 (Qt API)
            super().showEvent(event)
            QTimer.singleShot(0, lambda: _unless_gone(widen_to_fit, self))

    return FittingDialog(alg, parent=parent)


def _unless_gone(step, dialog) -> None:
    """Run a queued step, unless the dialog was closed and deleted before it came."""
    try:
        step(dialog)
    except RuntimeError as error:  # sip: "wrapped C/C++ object ... has been deleted"
        if "deleted" not in str(error):
            raise


def lacking_width(dialog) -> tuple[QScrollArea | None, int]:
    """The visible parameters panel and how many pixels its content lacks (0: it fits)."""
    for area in dialog.findChildren(QScrollArea):
        content = area.widget()
        if area.isVisible() and content is not None:
            need = content.minimumSizeHint().width() - area.viewport().width()
            if need > 0:
                return area, need
    return None, 0


def widen_to_fit(dialog) -> int:
    """Widen `dialog` by what its parameters panel lacks, as far as the screen allows, then
    (once Qt has laid it out again) move the splitter to give the panel what it still lacks.
    Returns the pixels the dialog grew by (0 when everything already fit)."""
    area, need = lacking_width(dialog)
    if area is None:
        return 0
    screen = dialog.screen() if hasattr(dialog, "screen") else None
    room = screen.availableGeometry().width() - dialog.frameGeometry().width() if screen is not None else need
    grow = max(0, min(need, room))
    if grow:
        dialog.resize(dialog.width() + grow, dialog.height())
    QTimer.singleShot(0, lambda: _unless_gone(shift_splitter, dialog))
    return grow


def shift_splitter(dialog) -> int:
    """Move the parameters/help splitter right by what the parameters panel still lacks,
    keeping HELP_MIN_WIDTH for the help. Returns the pixels moved."""
    area, need = lacking_width(dialog)
    splitter = area.parent() if area is not None else None
    while splitter is not None and not isinstance(splitter, QSplitter):
        splitter = splitter.parent()
    if splitter is None or len(splitter.sizes()) != 2:
        return 0
    left, right = splitter.sizes()
    moved = min(need, max(0, right - HELP_MIN_WIDTH))
    if moved:
        splitter.setSizes([left + moved, right - moved])
    return moved
