"""How an alert reads on a terminal: one line a price analyst can scan."""
from __future__ import annotations

from typing import Any, Final

__all__ = ["format_alert", "TYPE_NAMES"]

TYPE_NAMES: Final = {
    "peer_outlier": "同组离群", "price_jump": "价格异动", "hidden_increase": "变相涨价",
    "cross_region_gap": "地区差价", "ratio_rule_violation": "差比价违规", "dose_outlier": "用量存疑",
}
_SEVERITY_MARK: Final = {"critical": "!!!", "high": "!! ", "medium": "!  ", "low": ".  "}


def format_alert(alert: dict[str, Any]) -> str:
    """One line: severity, type, product, region, explanation.

    >>> format_alert({"severity": "high", "type": "price_jump", "generic_name": "银杏叶片",
    ...     "manufacturer": "甲厂", "product_id": "P1", "region": "GD-SZ", "explanation": "涨幅 108%"})
    '!!  high     价格异动 price_jump  银杏叶片 (甲厂, P1, GD-SZ): 涨幅 108%'
    """
    kind = alert.get("type", "?")
    return (f"{_SEVERITY_MARK.get(alert.get('severity', ''), '   ')} {alert.get('severity', '?'):8s} "
            f"{TYPE_NAMES.get(kind, kind)} {kind}  {alert.get('generic_name') or '?'} "
            f"({alert.get('manufacturer') or '?'}, {alert.get('product_id')}, {alert.get('region')}): "
            f"{alert.get('explanation', '')}")
