"""The results: the list model, its card delegate and view, the panel around them, thumbnails and source badges."""
