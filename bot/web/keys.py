"""Typed application keys: handlers get their dependencies from the app."""

from __future__ import annotations

from aiohttp import ClientSession, web

from bot.fraud.checker import FraudChecker
from bot.knowledge.service import KnowledgeService
from bot.net.ratelimit import ChatLimits, RateLimiter
from bot.outreach.engine import Broadcaster
from bot.settings import Settings
from bot.storage.db import Database
from bot.web.login_throttle import LoginThrottle
from bot.web.pushing import OrderAlerts, VerdictPushes

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
RASA_HTTP = web.AppKey("rasa_http", ClientSession)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeService)
FRAUD = web.AppKey("fraud", FraudChecker)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
CHAT_LIMITS = web.AppKey("chat_limits", ChatLimits)  # web chat: per sender and per client
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)  # console sign-in, client and account
VERDICT_PUSHES = web.AppKey("verdict_pushes", VerdictPushes)
ORDER_ALERTS = web.AppKey("order_alerts", OrderAlerts)  # WeCom: new orders, reminders, urgent
OUTREACH = web.AppKey("outreach", Broadcaster)  # alerts to subscribers: woken when one is due
