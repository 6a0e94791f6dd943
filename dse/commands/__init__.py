"""The ``dse`` command line: argument parsing and dispatch (``cli``), ``dse estimate`` and
``dse calibrate`` (``estimate``), ``dse export`` (``export``) and the progress bar (``progress``)."""
