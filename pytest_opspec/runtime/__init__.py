"""Container runtimes behind one small interface (Docker first)."""
