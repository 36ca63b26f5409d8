"""Jupyter widgets over the core: explore settings, simulate a send, send live.

Nothing in the core imports this package. Every widget also works headlessly: set its controls'
values (`widget.controls[name].value = ...`), call its methods, read its frames.
"""
from .chart import EndpointChart
from .explorer import SettingsExplorer
from .live import LiveSender, NoApiKey
from .simulator import FaultPanel, Simulator

__all__ = ["EndpointChart", "FaultPanel", "LiveSender", "NoApiKey", "SettingsExplorer", "Simulator"]
