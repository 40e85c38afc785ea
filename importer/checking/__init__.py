"""Row rules on text frames: value rules, the pandera schemas built from the spec, and
re-checking edited rows exactly as a whole-file check would. Row problems come out as Issue
records, never as exceptions.
"""
