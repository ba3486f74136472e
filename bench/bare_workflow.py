"""The yardstick: a workflow that runs one activity doing nothing, on the same dev server."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(value: str) -> str:
    return value


@workflow.defn(name="BenchBare")
class BareWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return str(await workflow.execute_activity("bench_noop", value, start_to_close_timeout=timedelta(minutes=1)))
