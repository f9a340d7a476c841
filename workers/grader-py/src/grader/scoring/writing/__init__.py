"""The fitted offline writing scorer (features, detectors, model, refit script)."""
