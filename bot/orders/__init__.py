"""Volunteer service orders: 点单 → 审单 → 派单 → 接单 → 服务 → 评单."""
