"""The sync logic: plain functions over canonical types and connector protocols."""
