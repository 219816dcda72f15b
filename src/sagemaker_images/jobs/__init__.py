"""Durable background work: finishing the transitions AWS makes asynchronously."""
