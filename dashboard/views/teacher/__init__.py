"""The teacher's pages: a section, a standard within it, a student, and score entry."""
