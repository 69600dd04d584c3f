"""The numbered main menu and the topic pages behind it."""
