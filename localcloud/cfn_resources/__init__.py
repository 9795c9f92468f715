"""CloudFormation resource types for moto: the types moto lacks, and fuller versions of the ones it has.

One module per service holds a small provider per type (``create/update/delete(props, ctx)``,
see ``adapter``); ``adapter.model`` turns each into the CloudFormationModel moto looks up. A new
type: a ``Provider`` subclass in its service's module (a new module for a new service), listed in
that module's ``PROVIDERS``; a new module is added to ``SERVICES`` below. ``MODELS`` is what
``localcloud.cloudformation.install`` registers and ``cfn_engine`` deletes through.
"""

from moto.core.common_models import CloudFormationModel

from localcloud.cfn_resources import apigateway, cloudfront, cloudwatch, iam, lambda_, logs, s3
from localcloud.cfn_resources.adapter import Provider, model

#: The service modules; each lists its providers in PROVIDERS.
SERVICES = (s3, logs, iam, lambda_, apigateway, cloudwatch, cloudfront)

PROVIDERS: tuple[type[Provider], ...] = tuple(p for service in SERVICES for p in service.PROVIDERS)

#: The models registered with moto, one per type (checked by localcloud.cloudformation.install).
MODELS: tuple[type[CloudFormationModel], ...] = tuple(model(p) for p in PROVIDERS)
