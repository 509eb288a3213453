"""The scopes routes require, as annotated dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from obs_schema import auth

Ingest = Annotated[auth.Principal, Depends(auth.require("ingest"))]
Read = Annotated[auth.Principal, Depends(auth.require("read"))]
Admin = Annotated[auth.Principal, Depends(auth.require("admin"))]
