"""The console's web fixtures (the app from its factory, one user per role), shared."""

from tests.bot.web.conftest import console_client, staff  # noqa: F401  (fixtures)
