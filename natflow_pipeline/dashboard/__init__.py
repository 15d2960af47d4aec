"""The interactive dashboard: data (read from the Delta tables), render (HTML),
publish (write it)."""
