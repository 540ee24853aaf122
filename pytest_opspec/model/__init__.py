"""Load op.yml (YAML 1.2), validate it, and model it as typed dataclasses."""
