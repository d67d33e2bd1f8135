"""Process limits a server needs: one connection cap for TCP and HTTP together, and one file
descriptor per connection."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


class ConnectionCap:
    """The open connections of the process, TCP and HTTP alike, against max_connections (§1).
    Each connection takes a place when it is made and gives it back when it is lost; giving
    back twice, or a place never taken, changes nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._holders: set[object] = set()

    @property
    def open(self) -> int:
        return len(self._holders)

    def take(self, holder: object) -> bool:
        if len(self._holders) >= self.limit:
            return False
        self._holders.add(holder)
        return True

    def give_back(self, holder: object) -> None:
        self._holders.discard(holder)


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (never above the hard limit); returns the
    soft limit now in force and warns when it is below what was wanted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < wanted:
        log.warning("file descriptor limit %d is below the %d that max_connections needs", soft, wanted)
    return soft
