"""Serve ralph's LRS API on its file-system backend (run by ralph's own virtualenv's Python).

ralph 5.1's `runserver -b fs` writes each statement with the backend's default operation, `create`,
which refuses to write to the statements file once it exists: the first statement is kept and every
later one answers 500. Appending is what its file backend does for `append`; this sets that default
and serves the same application with uvicorn, as `runserver` does (without reloading).
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host=sys.argv[1], port=int(sys.argv[2]), log_level="info")
