"""Private calendar feeds: the account page that makes and stops a person's feed address,
and the feed a calendar app fetches with it."""
