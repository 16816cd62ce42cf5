"""Case pages: the list a person may see, one case, and its actions."""
