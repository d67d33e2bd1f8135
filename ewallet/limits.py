"""Process limits a server needs: one file descriptor per connection."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


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
