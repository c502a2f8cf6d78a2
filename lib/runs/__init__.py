"""Runs of training as jobs: the serialisable record and its handle, the executors that run them, server settings."""
