"""Typed exceptions, translated once per edge (CALLERROR for chargers, problem+json for
the API, a message and exit code for the CLI). Never match on message strings."""

from __future__ import annotations


class CsmsError(Exception):
    """Base class of every error the product raises on purpose."""


class NotFound(CsmsError):
    """A resource does not exist (or belongs to another tenant, which looks the same)."""


class AlreadyExists(CsmsError):
    """A resource with that identity exists already."""


class InvalidInput(CsmsError):
    """Input that is well-formed but not acceptable (bad value, bad combination)."""


class NotAccepted(CsmsError):
    """The charger is not (yet) accepted by the CSMS and may not do this."""


class StorageUnavailable(CsmsError):
    """The durable store could not be reached or refused the write; nothing was stored."""


class ConnectionGone(CsmsError):
    """The WebSocket connection no longer exists (API Gateway answered 410)."""


class Unauthorized(CsmsError):
    """No valid identity (missing or unusable token claims)."""


class Forbidden(CsmsError):
    """The caller's role may not do this."""


class Conflict(CsmsError):
    """The request conflicts with the resource's current state."""
