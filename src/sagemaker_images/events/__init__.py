"""State-change events, as SageMaker sends them to EventBridge: their envelope, the sinks
they go to, and the delivery jobs that send them from the outbox (store/events.py)."""
