"""Call graph interpreter: container, op, serial and parallel calls, scope, kill.

Import from the modules (``executor.executor``, ``executor.runner``, ``executor.result``...): this file imports
nothing, so that a module needing a run's result (``executor.result``) does not load the interpreter.
"""
