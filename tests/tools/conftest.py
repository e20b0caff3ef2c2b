"""The scripts of ``tools/`` import by their file name, as when they are run from that folder."""
import sys

from diamlib.paths import project_root

TOOLS = str(project_root() / "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
