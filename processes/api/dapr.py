"""Dapr's workflow HTTP API for Flowdesk, as the workflow component `flowdesk`.

A Dapr client (an SDK's HTTP workflow client, curl) drives Flowdesk's instances through the
routes and bodies Dapr's sidecar serves; the component name is the setting
`FLOWDESK_DAPR_COMPONENT` ("flowdesk"). The views are thin: each calls the service the REST
API's instance routes call, so the permissions, locks and history are the same; only the
shapes are Dapr's. Authentication is the API's (Bearer JWT, or the session with CSRF).

What Dapr serves, and where it is written down
----------------------------------------------
* Routes (dapr/dapr `pkg/api/http/workflow.go`, `constructWorkflowEndpoints`; the same
  handlers under v1.0-alpha1, v1.0-beta1 and v1.0, the issue names v1.0)::

    POST /v1.0/workflows/{workflowComponent}/{workflowName}/start[?instanceID=...]
    GET  /v1.0/workflows/{workflowComponent}/{instanceID}
    POST /v1.0/workflows/{workflowComponent}/{instanceID}/terminate
    POST /v1.0/workflows/{workflowComponent}/{instanceID}/raiseEvent/{eventName}
    POST /v1.0/workflows/{workflowComponent}/{instanceID}/pause
    POST /v1.0/workflows/{workflowComponent}/{instanceID}/resume
    POST /v1.0/workflows/{workflowComponent}/{instanceID}/purge

  The query parameter is spelled `instanceID` (`r.URL.Query().Get(instanceID)`); start and
  raiseEvent take the raw request body as the input / event data (`SkipInputBody: true`,
  `io.ReadAll(r.Body)`), whatever its content type.
* Status codes (same file, `SuccessStatusCode: http.StatusAccepted`; docs.dapr.io
  reference/api/workflow_api): start, terminate, raiseEvent, pause, resume and purge answer
  202; get answers 200. Start's body is `{"instanceID": "..."}`; the others' is the empty
  protobuf message, which the runtime's `respondWithProto` (pkg/api/http/universal.go,
  responses.go) writes as `{}` (the docs say "no content").
* Get's body (dapr/dapr `pkg/api/universal/workflow.go`, `GetWorkflow`; the docs'
  "How to: Manage workflows" example): `instanceID`, `workflowName`, `createdAt`,
  `lastUpdatedAt` (RFC 3339 in UTC, as protojson writes a Timestamp: 0, 3, 6 or 9 fraction
  digits and `Z`), `runtimeStatus` (`statusMap`: RUNNING, COMPLETED, CONTINUED_AS_NEW, FAILED,
  CANCELED, TERMINATED, PENDING, SUSPENDED) and `properties`, a map of strings:
  `dapr.workflow.input`, `dapr.workflow.output` (only when not failed),
  `dapr.workflow.custom_status`, and for a failure `dapr.workflow.failure.error_type`,
  `dapr.workflow.failure.error_message`, `dapr.workflow.failure.stack_trace`.
* Errors (dapr/dapr `pkg/messages/predefined.go`, `pkg/api/errors/workflow.go`; docs.dapr.io
  developing-applications/error-codes/error-codes-reference, "Workflows API") are
  `{"errorCode": "ERR_...", "message": "..."}` (the exact body pinned by dapr/dapr
  `tests/integration/suite/daprd/workflow/getnotfound.go`):

  ========================================  ====  ===============================================
  ERR_WORKFLOW_COMPONENT_NOT_FOUND          400   workflow component '%s' does not exist
  ERR_INSTANCE_ID_TOO_LONG                  400   workflow instance ID exceeds the max length of
                                                  %d characters
  ERR_INSTANCE_ID_INVALID                   400   workflow instance ID '%s' is invalid: only
                                                  alphanumeric and underscore characters are
                                                  allowed
  ERR_INSTANCE_ID_PROVIDED_MISSING          400   no instance ID was provided
  ERR_INSTANCE_ID_NOT_FOUND                 404   unable to find workflow with the provided
                                                  instance ID: %s
  ERR_WORKFLOW_NAME_MISSING                 400   workflow name is not configured
  ERR_WORKFLOW_EVENT_NAME_MISSING           400   missing workflow event name
  ERR_START_WORKFLOW                        500   error starting workflow '%s': %s
  ERR_GET_WORKFLOW                          500   error while getting workflow info on instance
                                                  '%s': %s
  ERR_TERMINATE_WORKFLOW                    500   error terminating workflow '%s': %s
  ERR_RAISE_EVENT_WORKFLOW                  500   error raising event on workflow '%s': %s
  ERR_PAUSE_WORKFLOW                        500   error pausing workflow %s: %s
  ERR_RESUME_WORKFLOW                       500   error resuming workflow %s: %s
  ERR_PURGE_WORKFLOW                        500   error purging workflow %s: %s
  ERR_MALFORMED_REQUEST                     400   failed deserializing HTTP body: %v
  ERR_BODY_READ                             400   failed to read request body: %v
  ERR_API_UNIMPLEMENTED                     501   this API is currently not implemented
  ========================================  ====  ===============================================

  Dapr answers an unknown component with ERR_WORKFLOW_COMPONENT_NOT_FOUND on every route
  (pkg/api/http/http_test.go, TestV1Beta1Workflow), an unknown instance with
  ERR_INSTANCE_ID_NOT_FOUND on get, terminate and purge, and generates a UUID when start has
  no (or an empty) instanceID.

Where Flowdesk knows more than Dapr's engine
--------------------------------------------
* Dapr answers 500 for everything its engine refuses. Flowdesk knows whose fault it is, so
  a refusal keeps Dapr's error code for the operation (ERR_START_WORKFLOW,
  ERR_PAUSE_WORKFLOW, ...) and Dapr's message format, with the status the REST API gives
  the same refusal: 400 bad input, 403 not allowed, 404 nothing to act on (an unknown
  definition, an event nobody waits for), 409 the instance's state does not allow it
  (pausing a completed one). An instance that does not exist or that the caller may not
  see is ERR_INSTANCE_ID_NOT_FOUND (404) on every route, so ids cannot be probed.
* Instance ids follow Flowdesk's INSTANCE_ID_PATTERN (letters, digits, `.`, `_`, `-`, up
  to 64): too long is ERR_INSTANCE_ID_TOO_LONG, other characters ERR_INSTANCE_ID_INVALID
  (Dapr's wording kept). Starting again with an id already used for the same workflow is
  idempotent: 202 with that id, nothing started; an id used by another definition's (or
  an invisible) instance is ERR_START_WORKFLOW 409.
* The input and event data must be a JSON object (the variables; an empty body or `null`
  is none), else ERR_MALFORMED_REQUEST; a body over DATA_UPLOAD_MAX_MEMORY_SIZE is
  ERR_BODY_READ. Both 400.
* runtimeStatus: pending PENDING, running RUNNING, suspended SUSPENDED, completed
  COMPLETED, failed FAILED, cancelled (terminated) TERMINATED. Properties: the start
  variables as `dapr.workflow.input`, the final variables as `dapr.workflow.output` once
  completed, the failure's `error` / `message` (and the traceback, for managers and admins
  only, as in the REST API) as `dapr.workflow.failure.*`, and Flowdesk's own
  `flowdesk.business_key`, `flowdesk.version` and `flowdesk.variables` (the current ones).
  Every value is a string, JSON text where it is structured.
* Authentication and DRF's own refusals answer in the same error shape: 401
  ERR_UNAUTHORIZED, 403 ERR_PERMISSION_DENIED (Dapr's code for a denied access), 405
  ERR_METHOD_NOT_ALLOWED, 429 ERR_TOO_MANY_REQUESTS; Dapr has no code of its own for these
  (its API-token check answers plain text).
* The routes are not in /api/schema/: that is the /api/v1 API's schema, and Dapr documents
  these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_see_errors_in_full
from processes.controls import INSTANCE_CONTROLS
from processes.errors import Conflict, FlowdeskError, InvalidInput, NotAllowed, NotFound
from processes.models import INSTANCE_ID_PATTERN, ProcessInstance, new_instance_id
from processes.selectors import definition_get_visible, instance_get_detail, instance_history
from processes.services import instance_purge, instance_raise_event, instance_start_or_get
from processes.statuses import EventType, InstanceStatus
from processes.storable import unstorable

MAX_INSTANCE_ID_LENGTH = 64

RUNTIME_STATUS = {
    InstanceStatus.PENDING: "PENDING",
    InstanceStatus.RUNNING: "RUNNING",
    InstanceStatus.SUSPENDED: "SUSPENDED",
    InstanceStatus.COMPLETED: "COMPLETED",
    InstanceStatus.FAILED: "FAILED",
    InstanceStatus.CANCELLED: "TERMINATED",
}

# A service's refusal -> the status the REST API gives it (restapi.errors.STATUS_OF_ERROR).
STATUS_OF_REFUSAL = {InvalidInput: 400, NotAllowed: 403, NotFound: 404, Conflict: 409}

# DRF's own refusals (authentication, permission, method, throttling): Dapr has no codes.
CODE_OF_STATUS = {
    401: "ERR_UNAUTHORIZED",
    403: "ERR_PERMISSION_DENIED",
    404: "ERR_NOT_FOUND",
    405: "ERR_METHOD_NOT_ALLOWED",
    406: "ERR_NOT_ACCEPTABLE",
    415: "ERR_UNSUPPORTED_MEDIA_TYPE",
    429: "ERR_TOO_MANY_REQUESTS",
}


class DaprError(Exception):
    """An answer in Dapr's error shape: `{"errorCode": code, "message": message}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def component_not_found(component: str) -> DaprError:
    return DaprError(
        400, "ERR_WORKFLOW_COMPONENT_NOT_FOUND", f"workflow component '{component}' does not exist"
    )


def instance_not_found(instance_id: str) -> DaprError:
    return DaprError(
        404,
        "ERR_INSTANCE_ID_NOT_FOUND",
        f"unable to find workflow with the provided instance ID: {instance_id}",
    )


def refused(code: str, template: str, subject: str, error: FlowdeskError) -> DaprError:
    """A service's refusal under the operation's Dapr code, with the REST API's status."""
    return DaprError(STATUS_OF_REFUSAL[type(error)], code, template % (subject, error.message))


def dapr_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DaprError):
        return dapr_error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, exceptions.APIException):
        status = exc.status_code
        detail = (
            exc.detail.get("detail", exc.detail) if isinstance(exc.detail, dict) else exc.detail
        )
        response = dapr_error_response(status, CODE_OF_STATUS.get(status, "ERROR"), str(detail))
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None  # a bug: Django answers 500 and logs it


def dapr_error_response(status: int, code: str, message: str) -> Response:
    return Response({"errorCode": code, "message": message}, status=status)


@extend_schema(exclude=True)
class DaprWorkflowApi(APIView):
    """The base of the routes: Dapr's bodies, errors in Dapr's shape, the component checked.

    The body is read raw (no parser): Dapr passes the request content to the workflow as-is,
    whatever its content type.
    """

    parser_classes: list = []
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return dapr_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Authentication first (an anonymous caller learns nothing), then the component.
        super().initial(request, *args, **kwargs)
        component = kwargs.get("component")
        if component != settings.FLOWDESK_DAPR_COMPONENT:
            raise component_not_found(component)

    def visible_instance(self, request: Request, instance_id: str) -> ProcessInstance:
        try:
            return instance_get_detail(instance_id=instance_id, user=request.user)
        except NotFound:
            raise instance_not_found(instance_id) from None

    def control(
        self,
        request: Request,
        instance_id: str,
        service: Callable[..., Any],
        code: str,
        template: str,
    ) -> Response:
        instance = self.visible_instance(request, instance_id)
        try:
            service(instance=instance, user=request.user)
        except FlowdeskError as error:
            raise refused(code, template, instance_id, error) from None
        return Response({}, status=202)


def json_body(request: Request) -> dict[str, Any] | None:
    """The request's content as the workflow's variables: a JSON object, or None when empty."""
    try:
        raw = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise DaprError(
            400,
            "ERR_BODY_READ",
            f"failed to read request body: it is larger than the {limit:,} bytes accepted",
        ) from None
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        reason = "the document is nested too deeply" if isinstance(error, RecursionError) else error
        raise malformed(f"the body is not JSON: {reason}") from None
    problem = unstorable(data)
    if problem:
        where, why = problem
        raise malformed(f"{where}: {why}")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise malformed(f"the body must be a JSON object of variables, not {type(data).__name__}")
    return data


def malformed(reason: str) -> DaprError:
    return DaprError(400, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {reason}")


def checked_instance_id(value: str | None) -> str:
    """The `instanceID` of a start, or a new one (Dapr generates a UUID when none is given)."""
    if not value:
        return new_instance_id()
    if len(value) > MAX_INSTANCE_ID_LENGTH:
        raise DaprError(
            400,
            "ERR_INSTANCE_ID_TOO_LONG",
            f"workflow instance ID exceeds the max length of {MAX_INSTANCE_ID_LENGTH} characters",
        )
    if not re.fullmatch(INSTANCE_ID_PATTERN, value):
        raise DaprError(
            400,
            "ERR_INSTANCE_ID_INVALID",
            f"workflow instance ID '{value}' is invalid: only alphanumeric and underscore "
            "characters are allowed",
        )
    return value


def dapr_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC as protojson writes a Timestamp: 0, 3 or 6 fraction digits, then Z."""
    value = value.astimezone(UTC)
    micro = value.microsecond
    fraction = (
        "" if micro == 0 else f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    )
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def json_text(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def workflow_state(instance: ProcessInstance, *, user: Any) -> dict[str, Any]:
    """Dapr's GetWorkflowResponse for `instance` (from `instance_get_detail`)."""
    started = (
        instance_history(instance=instance)
        .filter(type=EventType.WORKFLOW_STARTED)
        .values_list("payload", flat=True)
        .first()
        or {}
    )
    properties = {
        "dapr.workflow.input": json_text(started.get("variables", instance.variables)),
        "flowdesk.business_key": instance.business_key,
        "flowdesk.version": str(instance.version),
        "flowdesk.variables": json_text(instance.variables),
    }
    if instance.status == InstanceStatus.COMPLETED:
        properties["dapr.workflow.output"] = json_text(instance.variables)
    if instance.status == InstanceStatus.FAILED and instance.error:
        error = instance.error
        properties["dapr.workflow.failure.error_type"] = str(error.get("error", ""))
        properties["dapr.workflow.failure.error_message"] = str(error.get("message", ""))
        if error.get("traceback") and can_see_errors_in_full(user):
            properties["dapr.workflow.failure.stack_trace"] = str(error["traceback"])
    return {
        "instanceID": instance.pk,
        "workflowName": instance.definition.key,
        "createdAt": dapr_timestamp(instance.created_at),
        "lastUpdatedAt": dapr_timestamp(instance.updated_at),
        "runtimeStatus": RUNTIME_STATUS[instance.status],
        "properties": dict(sorted(properties.items())),
    }


class DaprStartApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, workflow_name: str) -> Response:
        instance_id = checked_instance_id(request.query_params.get("instanceID"))
        variables = json_body(request)
        taken = Conflict(f"the instance id {instance_id!r} is taken")
        try:
            definition = definition_get_visible(user=request.user, key=workflow_name)
            instance, _created = instance_start_or_get(
                definition_key=definition.key,
                variables=variables,
                instance_id=instance_id,
                user=request.user,
            )
        except Conflict:
            # The id belongs to an instance of another definition.
            raise self.start_refused(workflow_name, taken) from None
        except FlowdeskError as error:
            raise self.start_refused(workflow_name, error) from None
        try:
            # A repeated id answers its instance: only one the caller may see.
            instance_get_detail(instance_id=instance.pk, user=request.user)
        except NotFound:
            raise self.start_refused(workflow_name, taken) from None
        return Response({"instanceID": instance.pk}, status=202)

    @staticmethod
    def start_refused(workflow_name: str, error: FlowdeskError) -> DaprError:
        return refused(
            "ERR_START_WORKFLOW", "error starting workflow '%s': %s", workflow_name, error
        )


class DaprGetApi(DaprWorkflowApi):
    def get(self, request: Request, component: str, instance_id: str) -> Response:
        instance = self.visible_instance(request, instance_id)
        return Response(workflow_state(instance, user=request.user))


class DaprTerminateApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, instance_id: str) -> Response:
        terminate = INSTANCE_CONTROLS["terminate"].service
        return self.control(
            request,
            instance_id,
            terminate,
            "ERR_TERMINATE_WORKFLOW",
            "error terminating workflow '%s': %s",
        )


class DaprPauseApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, instance_id: str) -> Response:
        suspend = INSTANCE_CONTROLS["suspend"].service
        return self.control(
            request, instance_id, suspend, "ERR_PAUSE_WORKFLOW", "error pausing workflow %s: %s"
        )


class DaprResumeApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, instance_id: str) -> Response:
        resume = INSTANCE_CONTROLS["resume"].service
        return self.control(
            request, instance_id, resume, "ERR_RESUME_WORKFLOW", "error resuming workflow %s: %s"
        )


class DaprRaiseEventApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, instance_id: str, event_name: str) -> Response:
        payload = json_body(request)
        instance = self.visible_instance(request, instance_id)
        try:
            instance_raise_event(
                instance=instance, name=event_name, payload=payload, user=request.user
            )
        except FlowdeskError as error:
            raise refused(
                "ERR_RAISE_EVENT_WORKFLOW",
                "error raising event on workflow '%s': %s",
                instance_id,
                error,
            ) from None
        return Response({}, status=202)


class DaprPurgeApi(DaprWorkflowApi):
    def post(self, request: Request, component: str, instance_id: str) -> Response:
        return self.control(
            request,
            instance_id,
            instance_purge,
            "ERR_PURGE_WORKFLOW",
            "error purging workflow %s: %s",
        )
