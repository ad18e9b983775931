"""Signed Linear deliveries to every registered webhook whose team and resource types match.

Body: ``action`` (create / update / remove), ``type`` (Issue / Project), ``data`` (the record's id,
identifier, title, updatedAt; an issue's ``stateId`` and ``state`` {id, name, type}, ``assigneeId``),
``updatedFrom`` on an issue update that moved its state or assignee (the previous ``stateId`` /
``assigneeId``, as Linear sends the previous values of the fields an update changed),
``createdAt`` (when the change happened), ``webhookTimestamp`` (epoch ms, taken when the change
happens) and ``webhookId``; headers ``Linear-Signature`` (hex HMAC-SHA256 of the body), ``Linear-Delivery`` (a
uuid per delivery, repeated on a duplicate) and ``Linear-Event``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from v2mom.sandbox.linear.app import linear_time
from v2mom.sandbox.linear.state import STATE_NAMES, HistoryEntry, Issue, LinearState, Record, Webhook
from v2mom.sandbox.webhooks import Chaos, Sender, hex_hmac


class LinearWebhookSender(Sender):
    """Listens to a LinearState and delivers to its registered webhooks."""

    def __init__(self, state: LinearState, chaos: Chaos | None = None) -> None:
        """Subscribe to ``state``; call :meth:`start` to begin sending."""
        super().__init__(chaos)
        self.state = state
        state.listeners.append(self._on_change)

    @staticmethod
    def _signer(hook: Webhook, kind: str) -> Callable[[str, bytes], dict[str, str]]:
        def headers(delivery_id: str, body: bytes) -> dict[str, str]:
            return {
                "Linear-Signature": hex_hmac(hook.secret, body),
                "Linear-Delivery": delivery_id,
                "Linear-Event": kind,
            }

        return headers

    def _state(self, team_key: str, state_type: str) -> dict[str, str]:
        return {
            "id": self.state.workflow_state_id(team_key, state_type),
            "name": STATE_NAMES[state_type],
            "type": state_type,
        }

    def _updated_from(self, entry: HistoryEntry) -> dict[str, object]:
        """The previous values of the state and assignee the update's history entry moved."""
        before: dict[str, object] = {}
        if entry.to_state is not None and entry.from_state is not None:
            before["stateId"] = self._state(*entry.from_state)["id"]
        if entry.from_assignee is not None or entry.to_assignee is not None:
            before["assigneeId"] = entry.from_assignee
        return before

    def _on_change(self, action: str, kind: str, record: Record) -> None:
        team = record.team_key if isinstance(record, Issue) else getattr(record, "team_key", None)
        data: dict[str, object] = {"id": record.id, "updatedAt": linear_time(record.updated)}
        before: dict[str, object] = {}
        if isinstance(record, Issue):
            with self.state.lock:
                state = self._state(record.team_key, record.state_type)
                data.update(
                    identifier=record.identifier,
                    title=record.title,
                    stateId=state["id"],
                    state=state,
                    assigneeId=record.assignee_id,
                )
                entry = record.history[-1] if record.history else None
                if action == "update" and entry is not None and entry.created == record.updated:
                    before = self._updated_from(entry)
        for hook in list(self.state.webhooks.values()):
            if kind not in hook.resource_types or (hook.team_key is not None and hook.team_key != team):
                continue
            body = json.dumps(
                {
                    "action": action,
                    "type": kind,
                    "data": data,
                    **({"updatedFrom": before} if before else {}),
                    "createdAt": linear_time(record.updated),
                    "webhookTimestamp": int(time.time() * 1000),
                    "webhookId": hook.id,
                }
            ).encode()
            self.enqueue(hook.url, str(uuid.uuid4()), body, self._signer(hook, kind))
