"""Call graph interpreter: container, op, serial and parallel calls, scope, kill."""
