"""StartRunner on AWS Step Functions: one execution per start, named by the start id."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import UpstreamError
from chalicelib.machines.models import StartRequest


@dataclass(frozen=True)
class StepFunctionsStartRunner:
    client: Any  # boto3 Step Functions client
    state_machine_arn: str

    def run(self, request: StartRequest) -> None:
        try:
            self.client.start_execution(stateMachineArn=self.state_machine_arn, name=request.start_id,
                                        input=json.dumps(request.to_state()))
        except (ClientError, BotoCoreError):
            raise UpstreamError("could not start the machine start workflow", code="start_unavailable") from None
