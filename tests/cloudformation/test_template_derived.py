"""The template's side of "derived images follow their originals": events, the cleanup function and
its least-privilege role, the tag the resizer writes, and the tag-filtered lifecycle rule."""

import fnmatch
import re
from pathlib import Path

from tests.cloudformation.conftest import as_list, statements

ROOT = Path(__file__).resolve().parents[2]


def test_the_bucket_sends_object_events_to_eventbridge_and_names_no_function(resources):
    bucket = resources["ImagesBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # no Lambda/Queue/Topic configurations: the bucket must not depend on the function (a cycle)
    assert set(bucket["NotificationConfiguration"]) == {"EventBridgeConfiguration"}


def test_a_rule_sends_this_buckets_created_and_deleted_events_to_the_cleanup(resources):
    rule = resources["CleanupRule"]
    assert rule["Type"] == "AWS::Events::Rule"
    props = rule["Properties"]
    assert props["State"] == "ENABLED"
    assert "EventBusName" not in props, "S3 sends to the default bus"
    assert props["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [{"Ref": "ImagesBucket"}]}},
    }
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["CleanupFunction", "Arn"]}
    permission = resources["CleanupInvokePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["CleanupFunction", "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["CleanupRule", "Arn"]}, "this rule only"


def test_the_cleanup_is_a_second_handler_of_the_same_zip_with_its_own_role_and_logs(resources):
    cleanup = resources["CleanupFunction"]["Properties"]
    resize = resources["Function"]["Properties"]
    assert cleanup["Handler"] == "resizer_function.cleanup.handler"
    assert (ROOT / "resizer_function" / "cleanup.py").is_file()
    assert cleanup["Code"] == resize["Code"] and cleanup["Runtime"] == resize["Runtime"]
    assert cleanup["Architectures"] == resize["Architectures"]
    assert cleanup["Role"] == {"Fn::GetAtt": ["CleanupRole", "Arn"]} != resize["Role"]
    assert cleanup["LoggingConfig"]["LogGroup"] == {"Ref": "CleanupLogGroup"}
    group = resources["CleanupLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + cleanup["FunctionName"]["Fn::Sub"]}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    env = cleanup["Environment"]["Variables"]
    assert env["BUCKET"] == {"Ref": "ImagesBucket"}
    assert env["DISTRIBUTION_ID"] == {"Fn::If": ["IsCdn", {"Ref": "Distribution"}, ""]}
    source = (ROOT / "resizer_function" / "cleanup.py").read_text(encoding="utf-8")
    assert set(re.findall(r'environ\.get\("([A-Z_]+)"', source)) - {
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDFRONT",
    } == set(env)


def test_the_cleanup_role_may_delete_only_keys_shaped_like_a_resized_image(resources):
    role = resources["CleanupRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    found = statements(resources["CleanupRole"])
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in found)
    grants: dict[str, list] = {}
    for s in found:
        for action in as_list(s["Action"]):
            grants.setdefault(action, []).extend(as_list(s["Resource"]))
    assert set(grants) == {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:DeleteObject",
        "cloudfront:CreateInvalidation",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }, "no PutObject, no s3:* - it never writes an image"
    assert grants["s3:ListBucket"] == [{"Fn::GetAtt": ["ImagesBucket", "Arn"]}]
    assert grants["s3:GetObject"] == grants["s3:DeleteObject"]
    patterns = [r["Fn::Sub"].removeprefix("${ImagesBucket.Arn}/") for r in grants["s3:DeleteObject"]]
    assert "*" not in patterns
    deletable = ("300x200/cat.jpg", "x600/a/b.jpg", "100x100,webp/cat.jpg", "1x/x.png")
    originals = ("cat.jpg", "photos/cat.jpg", "2024/holiday.jpg", "album/300x200.jpg", "x-ray.jpg")
    for key in deletable:
        assert any(fnmatch.fnmatchcase(key, p) for p in patterns), key
    for key in originals:
        assert not any(fnmatch.fnmatchcase(key, p) for p in patterns), key
    (invalidate,) = [s for s in found if "cloudfront:CreateInvalidation" in as_list(s["Action"])]
    assert invalidate["_condition"] == "IsCdn"
    assert invalidate["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
    }
    assert grants["logs:PutLogEvents"] == [{"Fn::GetAtt": ["CleanupLogGroup", "Arn"]}]


def test_the_resizer_may_tag_what_it_stores(resources):
    resize = statements(resources["FunctionRole"])
    (writes,) = [s for s in resize if "s3:PutObject" in as_list(s["Action"])]
    assert "s3:PutObjectTagging" in as_list(writes["Action"])
    source = (ROOT / "resizer_function" / "handler.py").read_text(encoding="utf-8")
    assert 'urlencode({"resizer:derived": "1"})' in source and "Tagging=DERIVED_TAGGING" in source


def test_derived_expiration_is_off_by_default_and_expires_only_tagged_objects(template, resources):
    parameter = template["Parameters"]["DerivedExpirationDays"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    assert template["Conditions"]["HasDerivedExpiration"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DerivedExpirationDays"}, "0"]}]
    }
    condition, config, otherwise = resources["ImagesBucket"]["Properties"]["LifecycleConfiguration"]["Fn::If"]
    assert (condition, otherwise) == ("HasDerivedExpiration", {"Ref": "AWS::NoValue"})
    (rule,) = config["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["TagFilters"] == [{"Key": "resizer:derived", "Value": "1"}]
    assert "Prefix" not in rule, "no prefix: sizes are many top-level folders; the tag alone selects them"
    assert rule["ExpirationInDays"] == {"Ref": "DerivedExpirationDays"}
    assert set(rule) == {"Id", "Status", "TagFilters", "ExpirationInDays"}
