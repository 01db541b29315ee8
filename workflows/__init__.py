"""BPMN circuits and the SpiffWorkflow adapter: pure functions over plain values, no database."""
