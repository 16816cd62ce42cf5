"""Cross-district network comparisons: only anonymized aggregates leave a district."""
