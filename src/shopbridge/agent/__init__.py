"""The ShopBridge agent: runs beside Mamut on the merchant's server and imports the documents ShopBridge sends.

It connects out to ShopBridge over HTTPS (long-polling, see web/agent_api.py), authenticates with
the token issued for its connection, writes each document as a Mamut import file (the transfer id
as the order's external number, checked in Mamut's export before every import), waits for Mamut to
take or refuse it, and sends back the result and Mamut's export files. Answers are kept on disk
until ShopBridge has them, so restarts and outages on either side lose nothing.

Long-polling rather than a Temporal worker on the merchant's server: one outbound HTTPS
connection, no Temporal client or credentials there, a token ShopBridge checks on every request,
and the store's jobs table (one job per reference, leased, answered once) as the durable queue.
"""

from shopbridge.agent.runner import Agent, AgentConfig

__all__ = ["Agent", "AgentConfig"]
