"""What the tool writes for people: the results workbook, the templates, and atomic,
no-clobber file writes shared by every writer.
"""
