"""Files to text frames: the input read once and bounded, CSV, xlsx/xls/ods, sheet
measuring before anything is inflated, headers matched and the operation of each sheet told.
Depends only on spec and the shared bottom modules (errors, text, report).
"""
