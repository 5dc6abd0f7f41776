"""Pages, by audience: `teacher` (section, standard and student pages, score entry), `school`
(a school's principal and its district's staff), `district` (district staff: imports) and
`home` (each role's first page). Every view asks accounts.access, then calls selectors, then
renders; none filters by role itself."""
