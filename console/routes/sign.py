"""A signed URL for one path (POST /api/sign): the console's side of `resizer sign`; the key stays in SSM."""

import time

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from console import state
from console.features import cli
from operations import jsonable, signing_key

router = APIRouter()


@router.post("/api/sign", name="api_sign", openapi_extra=cli("sign"))
def api_sign(request: Request, path: str = Form(...), expires: int | None = Form(None)) -> JSONResponse:
    found, clients = state.of(request).workspace.target()
    signed = signing_key.signed_url(clients, found.target.stack, path, expires_in=expires, now=time.time())
    return JSONResponse(jsonable.plain(signed))  # the shape of `resizer sign -o json`
