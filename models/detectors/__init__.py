"""Price-manipulation detectors as River anomaly detectors, and the suite the stream runs.

Every detector reads one enriched event as a plain ``dict`` (EVENTS.md ``drug.enriched``
fields plus ``event_type``, ``event_id``, ``ts``, ``prev_price``) and answers through
``score_one(x) -> float`` (0 = nothing unusual, larger = more anomalous) and
``check_one(x) -> Finding | None`` (the score with what it was compared with and a
sentence an analyst can act on); ``learn_one(x)`` then updates its state. Each is a
``river.base.AnomalyDetector`` (parameters under their own names, ``clone()``). As in
production, each event is scored before it is learned. With too little data (too few
peers, no history) a detector answers 0 rather than guess.

State lives only inside the detectors: product-keyed detectors keep a JSON-able dict
(``product_state["detect"]``), group-keyed ones are picklable objects held by
``DetectorSuite.new_group_state()``. Thresholds come from one
`models.detectors.settings.DetectorSettings`.
"""
