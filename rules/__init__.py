"""Pure domain logic for pricewatch: daily dose, pack facts, daily cost, 差比价 ratios, alert ids.

No I/O and no imports from `stream` or `models`; tables are data, so a pharmacist can extend them.
"""
