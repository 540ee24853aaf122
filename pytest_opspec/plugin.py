"""pytest hooks of the ``opspec`` plugin, registered through the ``pytest11`` entry point.

The hooks come with the plugin work; until then this module only has to exist so that pytest can
load the entry point.
"""
