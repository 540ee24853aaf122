"""Op backends: what the plugin's fixtures and scenario items run ops on (base.py: the protocol), the
in-process executor (executor.py) or any node through its API (node.py); runtime.py holds the one
factory of container runtimes and the session sweep. Import the modules themselves: this package
stays empty so importing one backend does not import the others."""
