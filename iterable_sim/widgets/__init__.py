"""Jupyter widgets over the core: explore settings, simulate a send, send live.

Nothing in the core imports this package. Every widget also works headlessly: set its controls'
values (`widget.controls[name].value = ...`), call its methods, read its frames.
"""
from iterable_sim.widgets.chart import EndpointChart
from iterable_sim.widgets.explorer import SettingsExplorer
from iterable_sim.widgets.live import LiveSender, NoApiKey
from iterable_sim.widgets.simulator import FaultPanel, Simulator
from iterable_sim.widgets._view import WidgetStateError

__all__ = ["EndpointChart", "FaultPanel", "LiveSender", "NoApiKey", "SettingsExplorer", "Simulator",
           "WidgetStateError"]
