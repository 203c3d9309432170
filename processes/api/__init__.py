"""The REST API of processes: definitions and instances (views call services and selectors)."""
