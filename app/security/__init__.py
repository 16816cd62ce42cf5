"""Who may do what: roles, the authorization matrix and its enforcement."""
