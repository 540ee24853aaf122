"""Event model, store and pub/sub."""

from .model import EVENT_FIELDS, Event, EventType, Outcome, format_timestamp, parse_timestamp

__all__ = ["EVENT_FIELDS", "Event", "EventType", "Outcome", "format_timestamp", "parse_timestamp"]
