"""The three outcomes of an SLI event, shared by every stage."""

GOOD, BAD, EXCLUDED = 0, 1, 2
NAMES = ("good", "bad", "excluded")
