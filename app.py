"""aether-agents front door: routes and event handlers only; each parses, makes one call, shapes the reply."""
from chalice import AuthResponse, Chalice, Rate, Response

from chalicelib import web, wiring
from chalicelib.api.auth import bearer_token, caller_from_context, unauthorized_exception
from chalicelib.api.http import http_errors, log_request, parse_json_object
from chalicelib.errors import UnauthorizedError
from chalicelib.observability import flush_after
from chalicelib.keys import PROVIDERS
from chalicelib.settings import Settings, local_dev_routes_enabled, settings

# configure_logs=False: Powertools' Logger owns logging (see docs/architecture.md).
app = Chalice(app_name="aether-agents", configure_logs=False)
app.register_middleware(log_request, "http")
app.register_middleware(flush_after, "all")
# The local stage's extra routes (dev sign-in, / redirect) are left out of every other stage's API.
LOCAL_DEV_ROUTES = local_dev_routes_enabled()
if LOCAL_DEV_ROUTES:
    from chalicelib.api.local_dev import local_dev_routes

    app.register_blueprint(local_dev_routes)


@app.authorizer(ttl_seconds=300)
def jwt_auth(auth_request):
    try:
        caller = wiring.token_verifier().verify(bearer_token(auth_request.token))
    except UnauthorizedError:
        raise unauthorized_exception() from None
    # The policy is cached per token, so it must cover every route; views check admin themselves.
    return AuthResponse(routes=["*"], principal_id=caller.user_id, context={"is_admin": str(caller.is_admin).lower()})


def current_caller():
    return caller_from_context(app.current_request.context.get("authorizer"))


@app.route("/user/api-keys", methods=["GET"], authorizer=jwt_auth)
@http_errors
def list_api_keys():
    summaries = wiring.vault().list(current_caller().user_id)
    return {"providers": [summary.to_json() for summary in summaries]}


@app.route("/user/api-keys", methods=["POST"], authorizer=jwt_auth, content_types=["application/json"])
@http_errors
def put_api_key():
    body = parse_json_object(app.current_request.raw_body)
    summary = wiring.vault().put(current_caller().user_id, body.get("provider"), body.get("api_key"))
    return summary.to_json()


@app.route("/user/api-keys/{provider}", methods=["DELETE"], authorizer=jwt_auth)
@http_errors
def delete_api_key(provider):
    wiring.vault().delete(current_caller().user_id, provider)
    return Response(body="", status_code=204)


@app.route("/providers", methods=["GET"], authorizer=jwt_auth)
def list_providers():
    return {
        "providers": [
            {"provider": p.name, "display_name": p.display_name, "console_url": p.console_url, "env_var": p.env_var}
            for p in PROVIDERS
        ]
    }


# The page is public: its token arrives in the URL fragment, which only the page's script can read.
@app.route("/settings/connected-accounts", methods=["GET"])
def connected_accounts_page():
    page = web.connected_accounts_page(
        dev_sign_in=LOCAL_DEV_ROUTES, guide_url=settings().using_agents_guide_url
    )
    return Response(body=page.body, headers=page.headers)


@app.route("/settings/assets/{name}", methods=["GET"])
@http_errors
def connected_accounts_asset(name):
    asset = web.static_asset(name)
    return Response(body=asset.body, headers=asset.headers)


# ---- projects and their VMs (docs/vm-start.md) ----------------------------------------------------------------
@app.route("/projects", methods=["POST"], authorizer=jwt_auth, content_types=["application/json"])
@http_errors
def create_project():
    body = parse_json_object(app.current_request.raw_body)
    project = wiring.projects().create(current_caller().user_id, body.get("name"), body.get("env"))
    return Response(body=project.to_json(), status_code=201)


@app.route("/projects/{project_id}/env", methods=["PUT"], authorizer=jwt_auth, content_types=["application/json"])
@http_errors
def replace_project_env(project_id):
    body = parse_json_object(app.current_request.raw_body)
    return wiring.projects().replace_env(current_caller().user_id, project_id, body.get("env")).to_json()


# 202 in every stage: the start runs as a Step Functions execution; poll GET .../machine for the outcome.
@app.route("/projects/{project_id}/start", methods=["POST"], authorizer=jwt_auth)
@http_errors
def start_project(project_id):
    status = wiring.project_starter().start(current_caller().user_id, project_id)
    return Response(body=status.to_json(project_id), status_code=202)


@app.route("/projects/{project_id}/machine", methods=["GET"], authorizer=jwt_auth)
@http_errors
def get_project_machine(project_id):
    return wiring.projects().get_owned(current_caller().user_id, project_id).machine.to_json(project_id)


# Step Functions tasks of infra/statemachine.asl.json: each receives the state and returns the next one.
@app.lambda_function(name="start_load_project")
def start_load_project(event, context):
    return wiring.start_tasks().load_project(event)


@app.lambda_function(name="start_launch_machine")
def start_launch_machine(event, context):
    return wiring.start_tasks().launch_machine(event)


@app.lambda_function(name="start_wait_for_machine")
def start_wait_for_machine(event, context):
    return wiring.start_tasks().wait_for_machine(event)


@app.lambda_function(name="start_record_started")
def start_record_started(event, context):
    return wiring.start_tasks().record_started(event)


@app.lambda_function(name="start_record_failure")
def start_record_failure(event, context):
    return wiring.start_tasks().record_failure(event)


# ---- agent analytics (docs/openapi.yaml; chalicelib/analytics) ----------------------------------------------
@app.route("/admin/analytics/agents", methods=["GET"], authorizer=jwt_auth)
@http_errors
def agent_analytics():
    current_caller().require_admin()
    period = (app.current_request.query_params or {}).get("period")
    return wiring.agent_analytics().report(period).to_json()


# Hourly: recompute the daily rollups of days whose sessions changed; `make rollup` runs the same job by hand.
@app.schedule(Rate(1, unit=Rate.HOURS), name="analytics_rollup")
def analytics_rollup(event):
    return wiring.analytics_rollup().run().to_json()


# ---- agent usage tracking (docs/usage-tracking.md) -----------------------------------------------------------
# Terminal output chunks → detector → agent_usage rows. Failed records come back in batchItemFailures
# (the event source needs ReportBatchItemFailures); session progress is saved once, when the batch ends.
@app.on_kinesis_record(stream=Settings.terminal_stream_name, name="detector", starting_position="TRIM_HORIZON")
def detector(event):
    return wiring.usage_ingestor().process_kinesis_event(event.to_dict(), event.context)