"""Command-line commands. Each module here exposes ``COMMANDS``: a list of click commands.

The modules are found by name, so adding a command is adding a module.
"""

import pkgutil

COMMAND_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
)
