"""Credentials never shown: URIs with ``user:password@`` in messages, logs and pages."""

from __future__ import annotations

import re

#: ``scheme://`` then anything up to an ``@`` without a blank: the user information of a
#: URI, whatever its password holds (``/``, ``:``, ``%``...). A non-secret ``@`` in a path
#: is hidden too: safer to hide too much than to print a password.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s@]+@")


def redact(text: str) -> str:
    """Hide credentials in URIs (``scheme://user:password@host`` -> ``scheme://***@host``)."""
    return _USERINFO.sub(r"\g<scheme>***@", str(text))
