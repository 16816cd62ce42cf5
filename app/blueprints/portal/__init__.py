"""The portal pages."""
