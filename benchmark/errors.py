"""The two ways xbench fails on purpose.

Every failure a user can cause or fix is raised as one of these, with a message that fits on one
line and names the file, field, option or model at fault; the CLI prints it and exits 1 (bad data,
failing model) or 2 (bad usage), never with a traceback.
"""

from __future__ import annotations


class XbenchError(Exception):
    """Something in the data, the model or the environment is wrong: exit code 1."""

    exit_code = 1


class UsageError(XbenchError):
    """The command line or the API call asked for something that does not exist: exit code 2."""

    exit_code = 2
