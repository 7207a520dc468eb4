"""Learned and LLM components: the dose extractors (rules, LLM, hybrid) and the River-protocol detectors."""
