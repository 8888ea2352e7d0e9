"""A service's alarms, all notifying the alarms topic of the core stack.

- a worker's DLQ is not empty (anything there needs an operator: peek, fix, redrive);
- its oldest message is older than a threshold (the service is down or cannot keep up);
- its error rate, from the runtime's per-batch EMF log lines (``shared.metrics``: namespace ``Tributary``,
  dimension ``service``), which CloudWatch Logs turns into metrics with no filter: messages retried or
  dead-lettered per message received, so Fargate and Lambda compute are judged alike;
- its end-to-end lag (``ingested_at`` → stored), p99 from the same EMF lines;
- for an HTTP front, the share of 5xx answers and the absence of healthy targets.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tributary_cdk.config import AlarmThresholds

NAMESPACE = "Tributary"  # shared.metrics.NAMESPACE
MINUTE = cdk.Duration.minutes(1)
# The EMF metrics of the runtime's per-batch line (shared.metrics.BatchMetrics) the error rate uses.
ERROR_RATE_METRICS = {"messages": "BatchSize", "retried": "Retried", "deadlettered": "DeadLettered"}


class _Alarms(Construct):
    def __init__(self, scope: Construct, id: str, *, alarm_topic: sns.ITopic) -> None:
        super().__init__(scope, id)
        self._action = actions.SnsAction(alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def _notify(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm


class WorkerAlarms(_Alarms):
    """DLQ not empty, oldest message age, error rate and end-to-end lag of one worker service."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        queue: sqs.IQueue,
        dlq: sqs.IQueue,
        alarm_topic: sns.ITopic,
        thresholds: AlarmThresholds,
    ) -> None:
        super().__init__(scope, id, alarm_topic=alarm_topic)
        self._notify(
            cloudwatch.Alarm(
                self,
                "DlqNotEmpty",
                alarm_description=f"{service}: messages in its DLQ need an operator (peek, fix, redrive)",
                metric=dlq.metric_approximate_number_of_messages_visible(period=MINUTE, statistic="Maximum"),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        self._notify(
            cloudwatch.Alarm(
                self,
                "OldestMessageAge",
                alarm_description=f"{service}: its queue's oldest message is older than"
                f" {thresholds.oldest_message_age_s} s (down, or not keeping up)",
                metric=queue.metric_approximate_age_of_oldest_message(period=MINUTE, statistic="Maximum"),
                threshold=thresholds.oldest_message_age_s,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        metrics = {key: emf_metric(service, name, "Sum") for key, name in ERROR_RATE_METRICS.items()}
        self.error_rate = cloudwatch.MathExpression(
            expression="(retried + deadlettered) / IF(messages > 0, messages, 1)",
            using_metrics=metrics,
            label=f"{service} error rate",
            period=MINUTE,
        )
        self._notify(
            cloudwatch.Alarm(
                self,
                "ErrorRate",
                alarm_description=f"{service}: more than {thresholds.error_rate:.0%} of messages retried or"
                " dead-lettered",
                metric=self.error_rate,
                threshold=thresholds.error_rate,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

        self._notify(
            cloudwatch.Alarm(
                self,
                "EndToEndLag",
                alarm_description=f"{service}: p99 from an event's time to stored is over"
                f" {thresholds.end_to_end_lag_s} s",
                metric=emf_metric(service, "EndToEndLag", "p99"),
                threshold=thresholds.end_to_end_lag_s * 1000,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def add_metric_alarm(self, id: str, *, description: str, metric: cloudwatch.IMetric) -> None:
        """One more alarm on ``metric`` > 0 (e.g. Lambda invocation errors)."""
        self._notify(
            cloudwatch.Alarm(
                self,
                id,
                alarm_description=description,
                metric=metric,
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )


class HttpAlarms(_Alarms):
    """5xx rate and no healthy target of an HTTP front (ALB)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        alarm_topic: sns.ITopic,
        thresholds: AlarmThresholds,
    ) -> None:
        super().__init__(scope, id, alarm_topic=alarm_topic)
        lb = load_balancer.metrics
        self.error_rate = cloudwatch.MathExpression(
            expression="(target5xx + lb5xx) / IF(requests > 0, requests, 1)",
            using_metrics={
                "target5xx": lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=MINUTE),
                "lb5xx": lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=MINUTE),
                "requests": lb.request_count(period=MINUTE),
            },
            label=f"{service} 5xx rate",
            period=MINUTE,
        )
        self._notify(
            cloudwatch.Alarm(
                self,
                "ErrorRate",
                alarm_description=f"{service}: over {thresholds.http_5xx_rate:.0%} of requests answered 5xx",
                metric=self.error_rate,
                threshold=thresholds.http_5xx_rate,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        self._notify(
            cloudwatch.Alarm(
                self,
                "NoHealthyTarget",
                alarm_description=f"{service}: no healthy task behind the load balancer",
                metric=_healthy_hosts(load_balancer, target_group),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
        )


def _healthy_hosts(
    load_balancer: elbv2.ApplicationLoadBalancer, target_group: elbv2.ApplicationTargetGroup
) -> cloudwatch.Metric:
    """HealthyHostCount of the target group behind the load balancer, per minute (minimum).

    The dimensions are both resources' ``*FullName`` attributes. The CDK's own ``healthy_host_count``
    derives the load balancer's from the listener ARN (``Fn::Select`` over ``Fn::Split``), which breaks
    wherever a listener's ``Ref`` is not an ARN (LocalStack: ``Fn::Select requires a list argument``).
    """
    return cloudwatch.Metric(
        namespace="AWS/ApplicationELB",
        metric_name="HealthyHostCount",
        dimensions_map={
            "LoadBalancer": load_balancer.load_balancer_full_name,
            "TargetGroup": target_group.target_group_full_name,
        },
        statistic="Minimum",
        period=MINUTE,
    )


def emf_metric(service: str, name: str, statistic: str) -> cloudwatch.Metric:
    """A metric of the runtime's EMF lines for ``service``, per minute."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=MINUTE,
    )
