"""Signed Asana deliveries: compact task events to every webhook whose project carries the task.

Each registered webhook (see ``POST /webhooks``: its secret came from the handshake) gets
``{"events": [...]}`` signed with ``X-Hook-Signature`` (hex HMAC-SHA256 of the body). An event's
``created_at`` is the task's ``modified_at`` (unique per change in the sandbox, as Asana's are);
:meth:`AsanaWebhookSender.heartbeat` sends the empty ``events`` list Asana sends every 8 hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from v2mom.sandbox.asana.app import asana_time
from v2mom.sandbox.asana.state import AsanaState, Task, Webhook
from v2mom.sandbox.webhooks import Chaos, Sender, hex_hmac


class AsanaWebhookSender(Sender):
    """Listens to an AsanaState and delivers to its registered webhooks."""

    def __init__(self, state: AsanaState, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        super().__init__(chaos)
        self.state = state
        state.listeners.append(self._on_change)

    @staticmethod
    def _signer(hook: Webhook) -> Callable[[str, bytes], dict[str, str]]:
        def headers(_delivery_id: str, body: bytes) -> dict[str, str]:
            return {"X-Hook-Signature": hex_hmac(hook.secret, body)}

        return headers

    def _on_change(self, action: str, task: Task) -> None:
        projects = set(self.state.root_projects(task))
        when = task.modified_at if action != "deleted" else self.state.clock()
        parent = {"gid": task.parent, "resource_type": "task"} if task.parent else None
        event = {
            "user": {"gid": self.state.user["gid"], "resource_type": "user"},
            "created_at": asana_time(when),
            "action": action,
            "resource": {"gid": task.gid, "resource_type": "task", "resource_subtype": "default_task"},
            "parent": parent,
        }
        body = json.dumps({"events": [event]}).encode()
        for hook in list(self.state.webhooks.values()):
            if hook.resource in projects:
                self.enqueue(
                    hook.target, f"{task.gid}/{action}/{event['created_at']}", body, self._signer(hook)
                )

    def heartbeat(self) -> None:
        """An empty delivery to every webhook."""
        for hook in list(self.state.webhooks.values()):
            self.enqueue(hook.target, f"heartbeat/{hook.gid}", b'{"events": []}', self._signer(hook))
