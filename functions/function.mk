# How `sam build` builds each function (BuildMethod: makefile; every functions/<name>/Makefile links
# here): the handler and the files beside it, with the handler compiled to hash-based bytecode, which
# a Lambda zip's 1980 file dates leave valid (layers/bridge/Makefile says why that matters).
BRIDGE_PYTHON ?= python3.13

build-%:
	$(BRIDGE_PYTHON) -c 'import sys; sys.exit(None if sys.version_info[:2] == (3, 13) else "functions are compiled with Python 3.13, the runtime'"'"'s: set BRIDGE_PYTHON")'
	find . -maxdepth 1 -type f ! -name Makefile -exec cp {} "$(ARTIFACTS_DIR)/" \;
	$(BRIDGE_PYTHON) -m compileall -q --invalidation-mode checked-hash "$(ARTIFACTS_DIR)"
