"""Fakes and generators for users' tests and demos: synthetic API logs in seed 000's shape."""
