"""What the tool knows before it reads a file: the two operations' columns (the single
source of truth for schemas, templates, payloads and docs) and the API contract, facts and
inferences kept apart. Imports nothing of the rest of the package.
"""
