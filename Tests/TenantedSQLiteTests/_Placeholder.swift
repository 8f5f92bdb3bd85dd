// Placeholder until the SQLite store tests land; remove when the folder has tests.
