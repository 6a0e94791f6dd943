"""The tool as users run it: the CLI in subprocesses, real Ray, the notebook, the browser, vendor HLS."""
