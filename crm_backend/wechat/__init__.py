"""wechat domain: the 48-hour customer-service window and undeliverable messages."""
