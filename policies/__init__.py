"""Pure policy functions over archive records: corrections, comment classification, rules."""
