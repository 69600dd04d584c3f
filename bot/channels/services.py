"""What the channels of one Rasa process share: its settings and one database.

Rasa builds each input channel on its own (``from_credentials``), so this is
where they meet: ``process_services`` reads the settings from the environment
once for all of them, and the ``Database`` is made at its first use (never at
import) and shared. Each channel holds the services while it serves
(``hold``) and lets go when the server stops (``release``); the last one to
let go closes the database, once.
"""

from __future__ import annotations

import weakref

from bot.channels import speedups
from bot.settings import Settings
from bot.storage.db import Database


class ChannelServices:
    """Settings and one database for the channels of a process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None
        self._holders: weakref.WeakSet[object] = weakref.WeakSet()

    @property
    def db(self) -> Database:
        """The shared database, made at its first use (again after a close)."""
        if self._db is None:
            # Closed when the server stops: it may keep its connections.
            self._db = Database(
                self.settings.database_url, keep_connections=speedups.keeps_connections()
            )
        return self._db

    def hold(self, holder: object) -> None:
        """``holder`` (a channel) uses the services until it ``release``s them."""
        self._holders.add(holder)

    async def release(self, holder: object) -> None:
        """``holder`` is done; the database closes when no one holds it any more."""
        self._holders.discard(holder)
        if not self._holders:
            await self.close()

    async def close(self) -> None:
        """Close the database now (a later use opens it again)."""
        db, self._db = self._db, None
        if db is not None:
            await db.close()


_process: ChannelServices | None = None


def process_services() -> ChannelServices:
    """The services of this process, built from the environment for its first channel.

    Every channel Rasa builds in the process gets the same ones; only settings
    that changed since (tests, each with their own environment) get new ones.
    """
    global _process
    settings = Settings.from_env()
    if _process is None or _process.settings != settings:
        _process = ChannelServices(settings)
    return _process
