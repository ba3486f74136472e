"""`python -m shopbridge.agent run ...`: the agent without the rest of the CLI."""

from shopbridge.agent.main import agent_app

agent_app()
