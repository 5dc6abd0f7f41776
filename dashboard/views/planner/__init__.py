"""The teacher's lesson planner (issue 22): plans (plans.py), their groups, live moves, exit
tickets and suggestions (groups.py), and the calendars (calendar.py). Access through
lessons.selectors (plan_for_user) and accounts.access (section_plans_for_user)."""
