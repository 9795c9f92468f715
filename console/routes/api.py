"""JSON endpoints about the console itself: its feature map (parity with the CLI) and its version."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from console import features
from console.features import cli
from console.web import console_version

router = APIRouter()


@router.get("/api/features", name="api_features")
def feature_map(request: Request) -> JSONResponse:
    return JSONResponse({"features": features.features(request.app), "cli_only": features.CLI_ONLY})


@router.get("/api/version", name="api_version", openapi_extra=cli("version"))
def version() -> JSONResponse:
    return JSONResponse({"version": console_version()})
