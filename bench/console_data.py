"""A year of synthetic rumour reports for the console benches: claims, their
reports spread as attention is, a verdict delivery per report, as tables to
bulk-load."""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import datetime, timedelta, timezone

from bench.report_texts import ReportTexts
from bench.throwaway_db import Table

CHANNELS = ("wechat", "wecom", "web", "rest")
STATUS_SHARE = (("pending", 0.15), ("verifying", 0.05), ("concluded", 0.6), ("rejected", 0.2))
HARMS = ("health", "safety", "fraud", "other")


def console_data(reports: int, claims: int, seed: int) -> dict[str, list[tuple]]:
    """Claims (5% merged into another), reports spread as attention is (a few claims
    get thousands), a verdict delivery per report; all over the last year."""
    from bot.rumors.reports import priority

    rng = random.Random(seed)
    source = ReportTexts(seed)
    now = datetime.now(timezone.utc)
    # Every claim one report; the rest by a Zipf-like weight of the claim's rank.
    weights = [1 / (rank**1.1) for rank in range(1, claims + 1)]
    rng.shuffle(weights)
    per_claim = [1] * claims
    for i in rng.choices(range(claims), weights=weights, k=reports - claims):
        per_claim[i] += 1
    statuses = [s for s, share in STATUS_SHARE for _ in range(round(share * 100))]
    status = [rng.choice(statuses) for _ in range(claims)]
    merged: dict[int, int] = {}  # claim -> the claim it was merged into (indexes)
    for c in rng.sample(range(claims), claims // 20):
        target = rng.randrange(claims)
        while target == c or target in merged:
            target = rng.randrange(claims)
        merged[c] = target
    for c, target in merged.items():  # the merge moved its reports to the target
        per_claim[target] += per_claim[c]
        per_claim[c] = 0
        status[c] = "pending"
        status[target] = "verifying" if status[target] == "rejected" else status[target]
    claim_rows, report_rows, delivery_rows = [], [], []
    senders = max(1000, reports // 3)
    for c in range(claims):
        count, harm = per_claim[c], rng.choice(HARMS)
        last = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        first = last - timedelta(minutes=rng.randrange(1, 30 * 24 * 60))
        chans = sorted({rng.choice(CHANNELS) for _ in range(min(count, 3))})
        reporters = max(1, int(count * 0.8)) if count else 0
        p = priority(reporters, len(chans), harm, last, last) if count else 0.0
        base = source.window(20, 60)
        target = merged.get(c)
        claim_rows.append(
            (
                c + 1,
                base,
                base,
                harm,
                status[c],
                None if target is None else target + 1,
                reporters,
                count,
                json.dumps(chans),
                p,
                math.log(max(p, 1e-9)),
                first,
                last,
                last,
            )
        )
        for _ in range(count):
            report_id = len(report_rows) + 1
            sender = rng.randrange(senders)
            channel = rng.choice(CHANNELS)
            report_rows.append(
                (
                    report_id,
                    f"R-{report_id:08X}",
                    hashlib.sha256(f"bench\0{report_id}".encode()).hexdigest(),
                    c + 1,
                    hashlib.sha256(f"kepu:s{sender}".encode()).hexdigest(),
                    channel,
                    None,
                    source.window(10, 50),
                    first + (last - first) * rng.random(),
                )
            )
            if status[c] == "concluded":
                owed = "sent" if rng.random() < 0.9 else "due"
            else:
                owed = "waiting"
            delivery_rows.append((report_id, report_id, channel, f"user-{sender}", owed, 0))
    return {"claims": claim_rows, "reports": report_rows, "deliveries": delivery_rows}


CLAIM_COLUMNS = (
    "id, title, match_text, harm, status, merged_into, reporters, reports, channels,"
    " priority, priority_log, first_seen, last_seen, updated_at"
)
REPORT_COLUMNS = (
    "id, public_id, idempotency_key, claim_id, sender_hash, channel, seen_where, text, created_at"
)
DELIVERY_COLUMNS = "id, report_id, channel, recipient, status, attempts"


def console_tables(data: dict[str, list[tuple]]) -> list[Table]:
    return [
        ("rumor_claims", CLAIM_COLUMNS, data["claims"]),
        ("rumor_reports", REPORT_COLUMNS, data["reports"]),
        ("report_deliveries", DELIVERY_COLUMNS, data["deliveries"]),
    ]
