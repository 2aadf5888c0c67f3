"""What the agents cost and how they evolve: LLM calls, playbook versions."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from recloop.ledger._core import ExperimentRef, LedgerCore, Payload, ref_id
from recloop.ledger.errors import ConflictError, NotFoundError
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import LLMCallRow, PlaybookVersionRow
from recloop.ledger.records import LLMCall, LLMUsage, PlaybookVersion, from_row
from recloop.ledger.redact import redact

_VERSION_RETRIES = 5  # concurrent writers racing for the next version number (Postgres)


class AgentsPart(LedgerCore):
    # -- LLM calls ---------------------------------------------------------------------------

    def record_llm_call(
        self,
        *,
        agent: str,
        model: str,
        prompt: str,
        response: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
        latency_seconds: float,
        experiment: ExperimentRef | None = None,
        error: str | None = None,
        key: str | None = None,
        payload: Payload = None,
        secrets: Iterable[str] = (),
        actor: str | None = None,
    ) -> LLMCall:
        """Keep one LLM call: tokens, cost, latency and the prompt and response, redacted.

        `secrets` are exact strings to mask besides the credential-shaped ones (`redact`).
        With a `key`, the call is recorded once per key; without, every call is a new row.
        """
        if min(tokens_in, tokens_out) < 0 or not math.isfinite(cost_usd) or cost_usd < 0:
            raise ValueError("tokens and cost must be finite and ≥ 0")
        masked = list(secrets)
        experiment_id = None if experiment is None else ref_id(experiment)
        row = LLMCallRow(
            key=key,
            agent=agent,
            experiment_id=experiment_id,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=float(cost_usd),
            latency_seconds=float(latency_seconds),
            prompt=redact(prompt, masked),
            response=redact(response, masked),
            error=None if error is None else redact(error, masked),
            payload=to_json_object(payload, "payload"),
            created_at=self._now(),
        )
        with self._write() as session:
            if experiment_id is not None:
                self._experiment_row(session, experiment_id)
            if key is None:
                session.add(row)
                created = True
            else:
                lookup = select(LLMCallRow).where(LLMCallRow.key == key)
                row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"agent": agent, "model": model, "cost_usd": row.cost_usd}
                subject = f"llm_call:{row.id}"
                self._audit(session, "llm.call", subject, detail, experiment_id, actor)
            return from_row(LLMCall, row)

    def get_llm_call(self, call_id: int) -> LLMCall:
        """One kept call (`NotFoundError` when there is none with that id)."""
        with self._read() as session:
            return from_row(LLMCall, self._get(session, LLMCallRow, call_id, "LLM call"))

    def llm_calls(
        self, *, experiment: ExperimentRef | None = None, agent: str | None = None
    ) -> list[LLMCall]:
        query = select(LLMCallRow).order_by(LLMCallRow.id)
        if experiment is not None:
            query = query.where(LLMCallRow.experiment_id == ref_id(experiment))
        if agent is not None:
            query = query.where(LLMCallRow.agent == agent)
        return self._select(LLMCall, query)

    def llm_usage(
        self,
        *,
        experiment: ExperimentRef | None = None,
        agent: str | None = None,
        since: dt.datetime | None = None,
    ) -> LLMUsage:
        """Calls, tokens and cost summed over the ledger, an experiment, an agent and/or the
        calls recorded at or after `since` (a run's start, by the ledger's clock)."""
        query = select(
            func.count(LLMCallRow.id),
            func.coalesce(func.sum(LLMCallRow.tokens_in), 0),
            func.coalesce(func.sum(LLMCallRow.tokens_out), 0),
            func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0),
        )
        if experiment is not None:
            query = query.where(LLMCallRow.experiment_id == ref_id(experiment))
        if agent is not None:
            query = query.where(LLMCallRow.agent == agent)
        if since is not None:
            query = query.where(LLMCallRow.created_at >= since)
        with self._read() as session:
            calls, tokens_in, tokens_out, cost = session.execute(query).one()
        return LLMUsage(int(calls), int(tokens_in), int(tokens_out), float(cost))

    # -- playbook versions -------------------------------------------------------------------

    def add_playbook_version(
        self,
        agent: str,
        text: str,
        *,
        parent_version: int | None = None,
        payload: Payload = None,
        actor: str | None = None,
    ) -> PlaybookVersion:
        """A new version of `agent`'s playbook (numbered 1, 2, …), once per distinct text."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        body = to_json_object(payload, "payload")
        for _ in range(_VERSION_RETRIES):
            try:
                return self._add_playbook_version(agent, text, digest, parent_version, body, actor)
            except IntegrityError:  # another writer took the version number: count again
                continue
        raise ConflictError(f"could not number a new playbook version of {agent!r}")

    def _add_playbook_version(
        self,
        agent: str,
        text: str,
        digest: str,
        parent_version: int | None,
        payload: dict[str, Any],
        actor: str | None,
    ) -> PlaybookVersion:
        by_text = select(PlaybookVersionRow).where(
            PlaybookVersionRow.agent == agent, PlaybookVersionRow.text_sha256 == digest
        )
        with self._write() as session:
            last = session.scalar(
                select(func.max(PlaybookVersionRow.version)).where(
                    PlaybookVersionRow.agent == agent
                )
            )
            row = PlaybookVersionRow(
                agent=agent,
                version=(last or 0) + 1,
                parent_version=parent_version,
                text=text,
                text_sha256=digest,
                payload=payload,
                created_at=self._now(),
            )
            row, created = self._insert_or_get(session, row, by_text)
            if created:
                session.flush()
                detail = {"agent": agent, "version": row.version, "parent": parent_version}
                self._audit(session, "playbook.add", f"playbook:{row.id}", detail, None, actor)
            return from_row(PlaybookVersion, row)

    def score_playbook_version(
        self,
        agent: str,
        version: int,
        *,
        outcome_rate: float,
        n_outcomes: int,
        accepted: bool,
        actor: str | None = None,
    ) -> PlaybookVersion:
        """Record a version's measured outcome rate and whether it is kept (once)."""
        with self._write() as session:
            row = session.scalars(
                select(PlaybookVersionRow).where(
                    PlaybookVersionRow.agent == agent, PlaybookVersionRow.version == version
                )
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"playbook version of {agent!r}", version)
            if row.accepted is not None:
                if row.accepted != accepted:
                    raise ConflictError(f"{agent} playbook v{version} was already scored")
                return from_row(PlaybookVersion, row)
            row.outcome_rate, row.n_outcomes = float(outcome_rate), n_outcomes
            row.accepted, row.scored_at = accepted, self._now()
            detail = {"version": version, "outcome_rate": outcome_rate, "accepted": accepted}
            self._audit(session, "playbook.score", f"playbook:{row.id}", detail, None, actor)
            return from_row(PlaybookVersion, row)

    def playbook_versions(self, agent: str) -> list[PlaybookVersion]:
        query = (
            select(PlaybookVersionRow)
            .where(PlaybookVersionRow.agent == agent)
            .order_by(PlaybookVersionRow.version)
        )
        return self._select(PlaybookVersion, query)

    def current_playbook(self, agent: str) -> PlaybookVersion | None:
        """The newest accepted version of `agent`'s playbook (None before any is accepted)."""
        accepted = [v for v in self.playbook_versions(agent) if v.accepted]
        return accepted[-1] if accepted else None
