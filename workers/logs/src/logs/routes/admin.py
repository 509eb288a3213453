"""Admin routes: the scrubbing configuration, a scrubbing preview, archiving on demand."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from logs import maintenance, redaction
from logs.schemas import ScrubbingConfig, ScrubPreview
from obs_schema import auth, host
from obs_schema.errors import Unprocessable
from obs_schema.scrubbing import ScrubConfigError

router = APIRouter(tags=["admin"], dependencies=[Depends(auth.require("admin"))])


@router.get(
    "/logs/config/scrubbing",
    response_model=ScrubbingConfig,
    summary="This deployment's scrubbing configuration (never the key)",
)
async def get_scrubbing(request: Request) -> JSONResponse:
    stored = await redaction.stored_config(request.scope["env"])
    return JSONResponse(ScrubbingConfig.model_validate(stored).model_dump())


@router.put(
    "/logs/config/scrubbing",
    response_model=ScrubbingConfig,
    summary="Replace the scrubbing configuration (applies within 30 s everywhere)",
)
async def put_scrubbing(request: Request, config: ScrubbingConfig) -> JSONResponse:
    data = config.model_dump()
    try:
        redaction.config_from(data)
    except ScrubConfigError as error:
        raise Unprocessable(str(error)) from None
    await redaction.save_config(request.scope["env"], data)
    return JSONResponse(data)


@router.post("/logs/scrub", summary="Preview: the text as it would be stored")
async def post_scrub(request: Request, preview: ScrubPreview) -> JSONResponse:
    scrubber = await redaction.scrubber_for(request.scope["env"])
    return JSONResponse({"text": scrubber.scrub_text(preview.text)})


@router.post("/logs/archive", summary="Run the hourly archive and retention now")
async def post_archive(request: Request) -> JSONResponse:
    return JSONResponse(await maintenance.hourly(request.scope["env"], host.now_ms()))
