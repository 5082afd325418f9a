"""The report's one error type: bad input, printed by the CLI as one line ``excolor: error: …``."""


class ReportError(Exception):
    """Bad input to the report (missing path, unknown study); printed as one line."""
