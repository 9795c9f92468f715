"""The Outputs of cloudformation/resizer.yaml by delivery mode: one expected set for every test."""

# Every stack has these, whatever its delivery.
COMMON = frozenset(
    {
        "ApiUrl",
        "BucketName",
        "FunctionName",
        "LogGroupName",
        "ApiAccessLogGroupName",
        "CleanupFunctionName",
        "CleanupLogGroupName",
        "CleanupRuleName",
    }
)
WEBSITE = COMMON | {"WebsiteUrl"}
CDN = COMMON | {"CdnUrl", "DistributionId"}
BY_DELIVERY = {"website": WEBSITE, "cdn": CDN}
DECLARED = WEBSITE | CDN  # the template declares both modes' (each mode's under its Condition)
