"""localcloud.cfn_resources: the registry of providers is what moto looks up, one provider per type."""

import pytest
from moto.cloudformation.parsing import get_model_map

from localcloud import cfn_resources, cloudformation


def test_each_type_has_one_provider_and_one_model() -> None:
    types = [provider.TYPE for provider in cfn_resources.PROVIDERS]
    assert len(types) == len(set(types)), "two providers for one type: the later would hide the other"
    assert all(t.startswith("AWS::") and t.count("::") == 2 for t in types)
    assert [m.cloudformation_type() for m in cfn_resources.MODELS] == types


def test_installed_moto_looks_up_every_provider_model() -> None:
    was_installed = cloudformation._patches.active
    cloudformation.install()
    try:
        model_map = get_model_map()
        for model in cfn_resources.MODELS:
            assert model_map[model.cloudformation_type()] is model
            assert model.cloudformation_type() == model.provider.TYPE
    finally:
        if not was_installed:
            cloudformation.uninstall()


def test_a_made_object_answers_ref_and_getatt_from_its_fields() -> None:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    from localcloud.cfn_resources.apigateway import ApiStage
    from localcloud.cfn_resources.cloudwatch import MetricAlarm

    alarm = MetricAlarm(
        "resizer-Errors-ABC", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:resizer-Errors-ABC"
    )
    assert alarm.physical_resource_id == "resizer-Errors-ABC"
    assert MetricAlarm.has_cfn_attr("Arn") and not MetricAlarm.has_cfn_attr("Name")
    assert alarm.get_cfn_attribute("Arn").endswith(":alarm:resizer-Errors-ABC")
    with pytest.raises(UnformattedGetAttTemplateException):
        alarm.get_cfn_attribute("Name")

    class Stage:
        name = "live"

    assert ApiStage("abc123", Stage()).physical_resource_id == "live"
