"""The panel: members, sessions, voting, minutes, and final approval."""
