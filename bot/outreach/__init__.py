"""Proactive outreach (issue 22): opt-in subscriptions to 防骗提醒, 农事提醒 by crop and
the 每月流言榜 (``commands``, ``subscriptions``, ``chat``), alerts drafted, approved
and scheduled (``alerts``, in the console through ``console``), the monthly digest
drafted from the month's published debunks (``digest``), and their delivery within
each platform's rules, exactly once per person (``engine``, ``owed``)."""

# The audit log's sentences for alert actions (bot.accounts.audit imports no service).
from bot.outreach import audit_text as _audit_text  # noqa: F401
