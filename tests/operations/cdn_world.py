"""A cdn-mode world in moto: a real CloudFront distribution and a stack whose outputs name it.

moto's CloudFormation has no CloudFront model, so the stack carries the contract's outputs
(``CdnUrl``, ``DistributionId``) and its ``Delivery`` parameter as plain values.
"""

import json
import uuid

from operations.aws import Clients


def distribution(clients: Clients, aliases: tuple[str, ...] = ()) -> dict:
    config = {
        "CallerReference": f"resizer-tests-{uuid.uuid4()}",
        "Comment": "images",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "images",
                    "DomainName": "images.s3.us-east-1.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "images",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    if aliases:
        config["Aliases"] = {"Quantity": len(aliases), "Items": list(aliases)}
    return clients.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]


def stack(
    clients: Clients, delivery: str = "cdn", name: str = "resizer", aliases: tuple[str, ...] = ()
) -> dict:
    """A stack with an images bucket; in cdn mode a distribution and the CdnUrl/DistributionId outputs."""
    outputs: dict = {"BucketName": {"Value": {"Ref": "ImagesBucket"}}}
    found: dict = {}
    if delivery == "cdn":
        found = distribution(clients, aliases)
        outputs["CdnUrl"] = {"Value": f"https://{found['DomainName']}"}
        outputs["DistributionId"] = {"Value": found["Id"]}
    else:
        outputs["WebsiteUrl"] = {"Value": "http://images.s3-website-us-east-1.amazonaws.com"}
    template = {
        "Parameters": {"Delivery": {"Type": "String", "Default": "cdn"}},
        "Resources": {"ImagesBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": outputs,
    }
    clients.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Delivery", "ParameterValue": delivery}],
    )
    return found
