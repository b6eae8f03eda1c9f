"""Result files: the typed result, its schema, reading and writing, and its tables."""

from .result import RecordedData, RecordedModel, SettingResult, TaskResult

__all__ = ["RecordedData", "RecordedModel", "SettingResult", "TaskResult"]
