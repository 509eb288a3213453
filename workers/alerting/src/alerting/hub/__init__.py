"""The alerting Durable Object's logic: alerts, groups, notifications, escalations, incidents.

Everything that must be consistent lives in one Durable Object (`AlertHub`), whose SQLite holds
it; `core.HubCore` is the object's logic, reached through `entry.AlertHub` and its alarm.
"""
