"""Starting the service: the `kepu` command, the supervisor, the Rasa entry,
the profiles, nginx and training. The top layer: it may import anything."""
