"""The enrollment doors: the public form and referrals."""
