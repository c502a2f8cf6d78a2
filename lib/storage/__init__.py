"""What is saved and read back: checkpoints and cards, the shipped models, settings in links, typed fields."""
