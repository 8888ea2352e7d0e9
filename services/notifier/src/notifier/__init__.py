"""notifier: alert rules over events, delivered once through SNS and signed webhooks."""
