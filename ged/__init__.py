"""ged: electronic document and mail management with BPMN circuits."""

__version__ = "0.1.0"
