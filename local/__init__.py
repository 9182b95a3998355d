"""The local stack: DynamoDB Local, the HTTP API in-process, and helpers the tests share."""

import sys
from pathlib import Path

# Lambda puts a layer's python/ on the path; locally the layer's source directory plays that part.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "bridge")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
