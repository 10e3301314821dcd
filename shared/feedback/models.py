"""Patient feedback after a closed conversation (card 134)."""
