"""A fake Asana REST API (v1.0): projects, tasks, subtasks, custom fields, tags and the Events API."""
