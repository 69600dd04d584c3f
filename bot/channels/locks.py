"""Rasa's Redis ticket lock, with every change of a lock made atomically.

Rasa 3.6's ``RedisLockStore`` changes a conversation's lock by reading it,
changing it in Python and writing it back. Two Rasa processes serving one
sender (two quick messages, each to another instance) can interleave those
steps, and the later write undoes the earlier one:

- both read "no lock" and both write ticket 0, so both turns run at once; or
- the first turn's clean-up removes ticket 0 while the waiting process, which
  read the lock just before, writes it back with ticket 0 still in it: the
  second message then waits for that ticket to expire (60 s) before it runs.

The second happened under load in a test of the production profile (two
concurrent messages of one sender, one per instance). Here each change is a
Redis transaction (WATCH the key, read, MULTI/SET/EXEC, retry when another
process changed the key in between), so no write is ever based on a stale read.
Reading the lock, and the waiting loop itself, are Rasa's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)
T = TypeVar("T")
# A change of the stored lock: the lock to store (None deletes it) and a result.
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes are transactions (see the module docstring).

    Named in endpoints.yml as ``type: bot.channels.locks.AtomicRedisLockStore`` with
    the same settings as Rasa's ``redis`` type (url, port, db, password, key_prefix).
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Change[T]) -> T:
        """Apply ``change`` to the stored lock atomically; ``change`` returns the lock to
        store (None deletes it) and a result. Retried while another process races it."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    lock, result = change(lock)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    log.debug("lock of %s changed meanwhile; retrying", conversation_id)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as e:  # Rasa's contract: any failure to lock is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when nobody else holds a ticket:
        one transaction, so a ticket issued meanwhile is never deleted with the lock."""

        def release(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, release)
