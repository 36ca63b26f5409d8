"""Jupyter widgets over the core: explore settings, simulate a send, send live, compare two releases,
simulate RudderStack's own delivery.

Nothing in the core imports this package. Every widget also works headlessly: set its controls'
values (`widget.controls[name].value = ...`), call its methods, read its frames.
"""
from iterable_sim.extras import WIDGETS, require

for _package in ("ipywidgets", "anywidget", "itables"):  # one line naming the extra, not an ImportError deep inside
    require(_package, WIDGETS, "iterable_sim.widgets")
del _package

from iterable_sim.widgets.chart import EndpointChart  # noqa: E402
from iterable_sim.widgets.delivery import DeliverySimulator  # noqa: E402
from iterable_sim.widgets.explorer import SettingsExplorer  # noqa: E402
from iterable_sim.widgets.live import LiveSender, NoApiKey  # noqa: E402
from iterable_sim.widgets.simulator import FaultPanel, Simulator  # noqa: E402
from iterable_sim.widgets.upgrade import UpgradePicker  # noqa: E402
from iterable_sim.widgets._view import WidgetStateError  # noqa: E402

__all__ = ["DeliverySimulator", "EndpointChart", "FaultPanel", "LiveSender", "NoApiKey", "SettingsExplorer", "Simulator",
           "UpgradePicker", "WidgetStateError"]
