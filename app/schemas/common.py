"""What every response model shares: the strict base and the number type that keeps ints ints."""

from __future__ import annotations

from typing import TypeAlias

from pydantic import BaseModel, ConfigDict

# Efforts are floats from SQL sums, but an empty Python sum is the int 0 (``"blocked_effort": 0``).
# A smart-mode union keeps whichever came back, so the JSON body stays exactly what it was.
Number: TypeAlias = int | float


class ApiModel(BaseModel):
    """Base of the response models: unknown keys are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")
