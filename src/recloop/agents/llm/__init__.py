"""recloop's access to a language model: one narrow seam the LLM agents call.

`resolve_llm(manifest.llm)` gives the settings in force (`LLMConfig`, or None when the provider
is `none` and only the non-LLM agents run). `LLMClient(config, ledger, budget)` then offers
`chat(messages, agent=…, experiment=…)` and `structured(messages, Schema, agent=…)`, which
returns a validated pydantic model (re-asking the model with its validation errors). Every call
is checked against `LLMBudget` first and kept in the ledger afterwards — prompt and response
redacted, tokens, cost, latency, and the error of a failed call. Errors are in `errors`.

`ScriptedLLMServer` is a scripted model behind a real OpenAI-compatible HTTP endpoint on
loopback: recloop's tests and offline demos run the whole path through it.

Point recloop at a real endpoint in the workspace's `recloop.toml`:

    [llm]
    provider = "openai"                      # any OpenAI-compatible server, or "anthropic"
    base_url = "http://localhost:8000/v1"    # vLLM; Ollama: http://localhost:11434/v1
    model = "Qwen/Qwen2.5-7B-Instruct"
    api_key_env = "MY_LLM_KEY"               # the variable's NAME; omit for a keyless local server
    price_in_per_mtok = 0.0                  # USD per million tokens, for cost accounting
    price_out_per_mtok = 0.0
    max_tokens_per_experiment = 50000
    max_tokens_per_run = 500000
    max_cost_usd = 5.0                       # per run

or, without editing the manifest, with `RECLOOP_LLM_PROVIDER`, `RECLOOP_LLM_BASE_URL`,
`RECLOOP_LLM_MODEL` and `RECLOOP_LLM_API_KEY_ENV` (these win over the manifest).
`provider = "anthropic"` needs `pip install 'recloop[anthropic]'`.
"""

from recloop.agents.llm.brainstorm import LLMBrainstormConfig, LLMBrainstormer
from recloop.agents.llm.budget import BudgetRemaining, LLMBudget
from recloop.agents.llm.client import LLMClient, LLMReply, Usage, render_messages
from recloop.agents.llm.develop import DEVELOP_PLAYBOOK, LLMDeveloper
from recloop.agents.llm.errors import (
    BudgetExhausted,
    LLMBadOutput,
    LLMConfigError,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
)
from recloop.agents.llm.playbook import (
    BRAINSTORMER,
    DEVELOPER,
    PLAYBOOKS,
    BatchReport,
    PlaybookKeeper,
    ran_with,
    tag,
)
from recloop.agents.llm.reflect import PlaybookEdit, Trajectory, read_trajectory
from recloop.agents.llm.scripted import ScriptedLLMServer, ScriptedReply
from recloop.agents.llm.settings import LLMConfig, resolve_llm

__all__ = [
    "BRAINSTORMER",
    "DEVELOPER",
    "DEVELOP_PLAYBOOK",
    "PLAYBOOKS",
    "BatchReport",
    "BudgetExhausted",
    "BudgetRemaining",
    "LLMBadOutput",
    "LLMBrainstormConfig",
    "LLMBrainstormer",
    "LLMBudget",
    "LLMClient",
    "LLMConfig",
    "LLMConfigError",
    "LLMDeveloper",
    "LLMError",
    "LLMReply",
    "LLMTimeout",
    "LLMUnavailable",
    "PlaybookEdit",
    "PlaybookKeeper",
    "ScriptedLLMServer",
    "ScriptedReply",
    "Trajectory",
    "Usage",
    "ran_with",
    "read_trajectory",
    "render_messages",
    "resolve_llm",
    "tag",
]
