"""Micro-benchmarks the `pricewatch bench` command runs."""
