"""Gemini's Batch API on the `google-genai` SDK: submit inlined requests as one job, poll it,
read each answer. Half the price of live calls; results arrive within 24 hours.

Requests are built exactly as live calls build them (`build_contents`, `build_config`), and
answers are read by the live provider's `read` (blocks, missing images, token pricing),
at the catalog's batch price. Submitting and polling use the live provider's retry policy
and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.genai import types

from plait.errors import ProviderError
from plait.providers.base import ImageRequest, ImageResult
from plait.providers.gemini import GeminiProvider, build_config, build_contents

KEY = "plait_key"  # the metadata field naming each inlined request
SUCCEEDED = "SUCCEEDED"
ENDED_BADLY = {
    "FAILED": "Gemini reported that the job failed",
    "CANCELLED": "the job was cancelled (in Google AI Studio or through the API)",
    "EXPIRED": "it did not finish within the 48 hours Google allows a batch job",
}


@dataclass(frozen=True, slots=True)
class JobStatus:
    name: str
    state: str  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED
    answers: dict[str, types.InlinedResponse]  # by request key, once SUCCEEDED

    @property
    def done(self) -> bool:
        return self.state == SUCCEEDED or self.state in ENDED_BADLY

    def answered_well(self, key: str) -> bool:
        """The job succeeded and answered `key`'s request without an error."""
        answer = self.answers.get(key)
        return self.state == SUCCEEDED and answer is not None and answer.error is None


class GeminiBatchApi:
    """Batch jobs through a `GeminiProvider`'s client (its key, base URL and retries)."""

    def __init__(self, gemini: GeminiProvider):
        self._gemini = gemini

    async def submit(
        self, model_id: str, requests: list[tuple[str, ImageRequest]], display_name: str
    ) -> JobStatus:
        model = self._gemini.model(model_id)
        inlined = [
            types.InlinedRequest(
                contents=build_contents(request.parts),
                config=build_config(request),
                metadata={KEY: key},
            )
            for key, request in requests
        ]
        config = types.CreateBatchJobConfig(display_name=display_name)
        job = await self._gemini.call(
            model,
            lambda: self._gemini.client.aio.batches.create(
                model=model.id, src=inlined, config=config
            ),
        )
        return _status(job)

    async def status(self, model_id: str, name: str) -> JobStatus:
        model = self._gemini.model(model_id)
        job = await self._gemini.call(model, lambda: self._gemini.client.aio.batches.get(name=name))
        return _status(job)

    def read(self, job: JobStatus, key: str, request: ImageRequest) -> ImageResult:
        """The answer to `request` in a finished job, at the batch price; raises
        `ProviderError` when the job ended badly or this request failed."""
        model = self._gemini.model(request.model)
        if job.state in ENDED_BADLY:
            raise ProviderError(
                f"Gemini's batch job {job.name} for {model.id} ended {job.state}: "
                f"{ENDED_BADLY[job.state]}. Run the row again (plait batch --retry-failed), "
                "or in live mode (without --batch-api)."
            )
        answer = job.answers.get(key)
        if answer is None:
            raise ProviderError(
                f"Gemini's batch job {job.name} for {model.id} finished without an answer to "
                "this row's request. Run the row again (plait batch --retry-failed)."
            )
        if answer.error is not None:
            said = f"HTTP {answer.error.code}: {answer.error.message or 'no message'}"
            raise ProviderError(
                self._gemini.redact(
                    f"Gemini's batch job {job.name} refused this row's request to {model.id} "
                    f"({said}). Check the prompt, the reference images and the image settings."
                )
            )
        if answer.response is None:
            raise ProviderError(
                f"Gemini's batch job {job.name} answered this row's request to {model.id} "
                "with neither a response nor an error. Run the row again."
            )
        result = self._gemini.read(model, request, answer.response, tier="batch")
        result.backend = "gemini-batch"
        return result


def _status(job: types.BatchJob) -> JobStatus:
    state = str(getattr(job.state, "value", job.state) or "").removeprefix("JOB_STATE_")
    answers: dict[str, types.InlinedResponse] = {}
    for answer in (job.dest.inlined_responses if job.dest else None) or []:
        key = (answer.metadata or {}).get(KEY)
        if key is not None:
            answers[key] = answer
    if not job.name:
        raise ProviderError("Gemini answered a batch request without the job's name")
    return JobStatus(job.name, state or "PENDING", answers)
