"""CloudWatch dashboards: an overview of the deployment (core stack) and one per service (its stack).

Every number comes from what the services already emit or AWS already measures: the runtime's per-batch
EMF lines (``shared.metrics``: namespace ``Tributary``, dimension ``service``: ``Processed``, ``Failed``,
``EndToEndLag``, ``StoreLatency``), ingest's per-request EMF line (``Accepted``, ``Rejected``,
``BusFailures``, ``RequestLatency``), SQS's queue metrics and the load balancer's. Queues are found by
the names provisioning gives them (``<bus>-<svc>``, ``<bus>-<svc>-dlq``), so the overview, in the core
stack, needs no reference into the service stacks.

Widgets, per minute unless said:

- worker: processed and failed; end-to-end lag p50/p99; store latency per batch p50/p99; DLQ depth;
  oldest message age; messages waiting and in flight;
- ingest: events accepted, rejected and failed on the bus; 4xx and 5xx (targets and load balancer);
  request latency p50/p99; requests;
- overview: one line per worker for processed, failed, p99 lag, store latency p99, DLQ depth and
  oldest message age, and ingest's accepted and rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tributary_cdk.constructs.alarms import MINUTE, emf_metric
from tributary_cdk.naming import dlq_name, queue_name

WIDTH, HEIGHT = 8, 6  # three graphs per row of the 24-unit grid


def _graph(
    title: str, left: Sequence[cloudwatch.IMetric], *, unit: str = "", stacked: bool = False
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(left),
        left_y_axis=cloudwatch.YAxisProps(label=unit, show_units=False, min=0),
        width=WIDTH,
        height=HEIGHT,
        stacked=stacked,
        period=MINUTE,
    )


def _labelled(metric: cloudwatch.Metric, label: str, color: str | None = None) -> cloudwatch.Metric:
    return metric.with_(label=label, color=color)


def _sqs_metric(queue: str, name: str, statistic: str = "Maximum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SQS",
        metric_name=name,
        dimensions_map={"QueueName": queue},
        statistic=statistic,
        period=MINUTE,
    )


def worker_widgets(
    service: str, *, queue: sqs.IQueue | str, dlq: sqs.IQueue | str
) -> list[cloudwatch.IWidget]:
    """A worker's widgets (its queues as constructs, or by name)."""

    def sqs_metric(q: sqs.IQueue | str, name: str) -> cloudwatch.Metric:
        return _sqs_metric(q if isinstance(q, str) else q.queue_name, name)

    return [
        _graph(
            f"{service}: processed and failed per minute",
            [
                _labelled(emf_metric(service, "Processed", "Sum"), "processed", cloudwatch.Color.GREEN),
                _labelled(emf_metric(service, "Failed", "Sum"), "failed", cloudwatch.Color.RED),
            ],
            unit="messages",
        ),
        _graph(
            f"{service}: end-to-end lag (event time → stored)",
            [
                _labelled(emf_metric(service, "EndToEndLag", "p50"), "p50"),
                _labelled(emf_metric(service, "EndToEndLag", "p99"), "p99", cloudwatch.Color.ORANGE),
            ],
            unit="ms",
        ),
        _graph(
            f"{service}: store latency per batch",
            [
                _labelled(emf_metric(service, "StoreLatency", "p50"), "p50"),
                _labelled(emf_metric(service, "StoreLatency", "p99"), "p99", cloudwatch.Color.ORANGE),
            ],
            unit="ms",
        ),
        _graph(
            f"{service}: DLQ depth",
            [
                _labelled(
                    sqs_metric(dlq, "ApproximateNumberOfMessagesVisible"), "letters", cloudwatch.Color.RED
                )
            ],
            unit="messages",
        ),
        _graph(
            f"{service}: oldest message age",
            [
                _labelled(
                    sqs_metric(queue, "ApproximateAgeOfOldestMessage"), "oldest", cloudwatch.Color.PURPLE
                )
            ],
            unit="seconds",
        ),
        _graph(
            f"{service}: queue",
            [
                _labelled(sqs_metric(queue, "ApproximateNumberOfMessagesVisible"), "waiting"),
                _labelled(sqs_metric(queue, "ApproximateNumberOfMessagesNotVisible"), "in flight"),
            ],
            unit="messages",
        ),
    ]


def ingest_widgets(service: str, *, load_balancer: elbv2.ApplicationLoadBalancer) -> list[cloudwatch.IWidget]:
    """ingest's widgets: events by outcome (EMF), answers by class and requests (the load balancer)."""
    lb = load_balancer.metrics
    return [
        _graph(
            f"{service}: events accepted and rejected per minute",
            [
                _labelled(emf_metric(service, "Accepted", "Sum"), "accepted", cloudwatch.Color.GREEN),
                _labelled(emf_metric(service, "Rejected", "Sum"), "rejected", cloudwatch.Color.ORANGE),
                _labelled(
                    emf_metric(service, "BusFailures", "Sum"), "failed on the bus", cloudwatch.Color.RED
                ),
            ],
            unit="events",
        ),
        _graph(
            f"{service}: 4xx and 5xx per minute",
            [
                _labelled(
                    lb.http_code_target(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, period=MINUTE), "4xx (ingest)"
                ),
                _labelled(
                    lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=MINUTE),
                    "5xx (ingest)",
                    cloudwatch.Color.RED,
                ),
                _labelled(
                    lb.http_code_elb(elbv2.HttpCodeElb.ELB_4XX_COUNT, period=MINUTE), "4xx (load balancer)"
                ),
                _labelled(
                    lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=MINUTE),
                    "5xx (load balancer)",
                    cloudwatch.Color.PINK,
                ),
            ],
            unit="answers",
        ),
        _graph(
            f"{service}: request latency",
            [
                _labelled(emf_metric(service, "RequestLatency", "p50"), "p50"),
                _labelled(emf_metric(service, "RequestLatency", "p99"), "p99", cloudwatch.Color.ORANGE),
            ],
            unit="ms",
        ),
        _graph(f"{service}: requests per minute", [_labelled(lb.request_count(period=MINUTE), "requests")]),
    ]


class ServiceDashboard(Construct):
    """``<bus>-<service>``: a worker's or ingest's widgets, under a line saying how to act on it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bus_name: str,
        service: str,
        widgets: Sequence[cloudwatch.IWidget],
    ) -> None:
        super().__init__(scope, id)
        header = cloudwatch.TextWidget(
            markdown=f"## Tributary `{bus_name}`: {service}\n"
            f"Act on it with `tributary status --region {cdk.Aws.REGION} --bus {bus_name}` and"
            f" `tributary dlq peek {service} --region {cdk.Aws.REGION} --bus {bus_name}`.",
            width=24,
            height=2,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{bus_name}-{service}",
            default_interval=cdk.Duration.hours(3),
            widgets=[[header], list(widgets)],
        )


class OverviewDashboard(Construct):
    """``<bus>-overview``: every worker side by side, and ingest's events by outcome."""

    def __init__(
        self, scope: Construct, id: str, *, bus_name: str, workers: Sequence[str], ingest: str | None
    ) -> None:
        super().__init__(scope, id)

        def per_worker(metric: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [_labelled(emf_metric(w, metric, statistic), w) for w in workers]

        def per_queue(name: str, dlq: bool) -> list[cloudwatch.IMetric]:
            named = dlq_name if dlq else queue_name
            return [_labelled(_sqs_metric(named(bus_name, w), name), w) for w in workers]

        widgets: list[cloudwatch.IWidget] = [
            _graph("Processed per minute", per_worker("Processed", "Sum"), unit="messages"),
            _graph(
                "Failed per minute (retried + dead-lettered)", per_worker("Failed", "Sum"), unit="messages"
            ),
            _graph("End-to-end lag p99 (event time → stored)", per_worker("EndToEndLag", "p99"), unit="ms"),
            _graph("DLQ depth", per_queue("ApproximateNumberOfMessagesVisible", dlq=True), unit="messages"),
            _graph(
                "Oldest message age", per_queue("ApproximateAgeOfOldestMessage", dlq=False), unit="seconds"
            ),
            _graph("Store latency p99 per batch", per_worker("StoreLatency", "p99"), unit="ms"),
        ]
        if ingest:
            widgets.append(
                _graph(
                    f"{ingest}: events accepted and rejected per minute",
                    [
                        _labelled(emf_metric(ingest, "Accepted", "Sum"), "accepted", cloudwatch.Color.GREEN),
                        _labelled(emf_metric(ingest, "Rejected", "Sum"), "rejected", cloudwatch.Color.ORANGE),
                        _labelled(
                            emf_metric(ingest, "BusFailures", "Sum"),
                            "failed on the bus",
                            cloudwatch.Color.RED,
                        ),
                    ],
                    unit="events",
                )
            )
        header = cloudwatch.TextWidget(
            markdown=f"## Tributary `{bus_name}`: overview\n"
            f"Each service has a dashboard of its own (`{bus_name}-<service>`). Act on the pipeline with"
            f" `tributary status --region {cdk.Aws.REGION} --bus {bus_name}`.",
            width=24,
            height=2,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{bus_name}-overview",
            default_interval=cdk.Duration.hours(3),
            widgets=[[header], widgets],
        )
