"""The one decision for free text: answer, debunk, fraud verdict, choices,
report offer, or an honest "not yet" with the right hotline."""
