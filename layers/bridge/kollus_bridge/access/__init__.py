"""Play-time access control: who is entitled to play what (`entitlement`), and the answers to
Kollus's play callback (`play`), from courses and enrolments the LMS keeps current (`ports`)."""
