"""Temporal orchestration: workflows, activities, worker, schedules and the embedded dev server."""
