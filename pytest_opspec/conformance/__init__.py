"""Node API conformance suite for opspec 0.1.5 nodes."""
