"""Proactive outreach (issue 22): opt-in subscriptions to 防骗提醒, 农事提醒 by crop and
the 每月流言榜 (``commands``, ``subscriptions``, ``chat``), alerts drafted, approved
and scheduled (``alerts``), and their delivery within each platform's rules, exactly
once per person (``engine``, ``owed``)."""
