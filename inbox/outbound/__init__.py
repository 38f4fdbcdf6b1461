"""Outbound replies: one sender per platform and the outbox that sends each reply once.

Callers use `inbox.outbound.outbox` (queue_send, send_now, drain_outbox, resend).
"""
