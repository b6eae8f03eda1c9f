"""Result files: the typed result, its schema, reading and writing, and its tables."""
