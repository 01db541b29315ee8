"""Domain vocabulary and rules; imports no framework."""
