"""Webhook receiving: signature verification, the durable inbox, and the worker that applies it."""
