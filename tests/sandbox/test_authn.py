"""Who the emulated API server thinks is asking: tokens, the admin, impersonation.

Through the real client over HTTPS, as drill and kubectl reach a cluster: requests without a
valid bearer token get the real server's 401, the kubeconfig's user is the admin, the
TokenRequest API issues ServiceAccount tokens that expire, die with their account and serve
only the API server's audience, and the admin (only) may impersonate.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from drill.clock import FakeClock
from tests.sandbox.helpers import Cluster, raw_http, service_account, token_of

TokenClient = Callable[[Cluster, str], client.ApiClient]
UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


def whoami(api_client: client.ApiClient, **headers: str) -> client.V1UserInfo:
    review = client.AuthenticationV1Api(api_client).create_self_subject_review(
        {"metadata": {}}, _headers=headers or None
    )
    return review.status.user_info


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4=", "Bearer "]
)
def test_a_request_without_a_valid_token_is_unauthorized(
    still_cluster: Cluster, authorization: str | None
) -> None:
    http = raw_http(still_cluster.emulator)
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/version", "/api/v1/namespaces", "/apis/velero.io/v1/namespaces/velero/backups"):
        answer = http.request("GET", f"{still_cluster.emulator.url}{path}", headers=headers)
        assert (answer.status, answer.json()) == (401, UNAUTHORIZED), path


def test_the_kubeconfig_user_is_the_clusters_admin(still_cluster: Cluster) -> None:
    user = whoami(still_cluster.api_client)
    assert user.username == "kubernetes-admin"
    assert user.groups == ["system:masters", "system:authenticated"]


def test_a_token_request_issues_a_token_that_authenticates_the_account(
    still_cluster: Cluster, token_client: TokenClient
) -> None:
    username = service_account(still_cluster, "team", "robot")
    request = still_cluster.core.create_namespaced_service_account_token(
        "robot", "team", {"spec": {"expirationSeconds": 1200}}
    )
    assert request.spec.audiences == ["https://kubernetes.default.svc.cluster.local"]
    assert request.spec.expiration_seconds == 1200
    assert request.status.expiration_timestamp - request.metadata.creation_timestamp == timedelta(
        seconds=1200
    )
    _header, claims, signature = request.status.token.split(".")
    assert signature
    payload = json.loads(_unpadded_b64(claims))
    assert payload["sub"] == username
    assert payload["kubernetes.io"]["serviceaccount"]["name"] == "robot"

    user = whoami(token_client(still_cluster, request.status.token))
    assert user.username == username
    assert user.groups == [
        "system:serviceaccounts",
        "system:serviceaccounts:team",
        "system:authenticated",
    ]
    account = still_cluster.core.read_namespaced_service_account("robot", "team")
    assert user.uid == account.metadata.uid


def _unpadded_b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_token_request_for_a_missing_account_or_too_short_a_life_is_refused(
    still_cluster: Cluster,
) -> None:
    service_account(still_cluster, "team", "robot")
    with pytest.raises(ApiException) as missing:
        still_cluster.core.create_namespaced_service_account_token("ghost", "team", {"spec": {}})
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'serviceaccounts "ghost" not found'
    with pytest.raises(ApiException) as short:
        still_cluster.core.create_namespaced_service_account_token(
            "robot", "team", {"spec": {"expirationSeconds": 60}}
        )
    assert short.value.status == 422
    assert json.loads(short.value.body)["message"] == (
        'TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: '
        "Invalid value: 60: may not specify a duration less than 10 minutes"
    )


def test_a_token_expires(
    still_cluster: Cluster, fake_clock: FakeClock, token_client: TokenClient
) -> None:
    service_account(still_cluster, "team", "robot")
    api = client.CoreV1Api(token_client(still_cluster, token_of(still_cluster, "team", "robot")))
    assert client.VersionApi(api.api_client).get_code().git_version
    fake_clock.advance(3599)
    assert client.VersionApi(api.api_client).get_code().git_version
    fake_clock.advance(1)
    with pytest.raises(ApiException) as expired:
        client.VersionApi(api.api_client).get_code()
    assert expired.value.status == 401


def test_a_token_dies_with_its_account_even_if_one_of_its_name_returns(
    still_cluster: Cluster, token_client: TokenClient
) -> None:
    service_account(still_cluster, "team", "robot")
    robot = token_client(still_cluster, token_of(still_cluster, "team", "robot"))
    assert whoami(robot).username == "system:serviceaccount:team:robot"
    still_cluster.core.delete_namespaced_service_account("robot", "team")
    still_cluster.core.create_namespaced_service_account("team", {"metadata": {"name": "robot"}})
    with pytest.raises(ApiException) as revoked:
        whoami(robot)
    assert revoked.value.status == 401


def test_a_token_for_another_audience_does_not_open_the_api(
    still_cluster: Cluster, token_client: TokenClient
) -> None:
    service_account(still_cluster, "team", "robot")
    vault = token_of(still_cluster, "team", "robot", audiences=["vault"])
    with pytest.raises(ApiException) as refused:
        whoami(token_client(still_cluster, vault))
    assert refused.value.status == 401


def test_the_admin_may_impersonate_a_service_account_or_a_user(still_cluster: Cluster) -> None:
    service_account(still_cluster, "team", "robot")
    robot = whoami(
        still_cluster.api_client, **{"Impersonate-User": "system:serviceaccount:team:robot"}
    )
    assert robot.username == "system:serviceaccount:team:robot"
    assert robot.groups == [
        "system:serviceaccounts",
        "system:serviceaccounts:team",
        "system:authenticated",
    ]
    alice = whoami(
        still_cluster.api_client, **{"Impersonate-User": "alice", "Impersonate-Group": "ops"}
    )
    assert (alice.username, alice.groups) == ("alice", ["ops", "system:authenticated"])


def test_impersonation_needs_the_right_to_impersonate(
    still_cluster: Cluster, token_client: TokenClient
) -> None:
    service_account(still_cluster, "team", "robot")
    robot = token_client(still_cluster, token_of(still_cluster, "team", "robot"))
    with pytest.raises(ApiException) as refused:
        whoami(robot, **{"Impersonate-User": "alice"})
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        'users "alice" is forbidden: User "system:serviceaccount:team:robot" cannot impersonate '
        'resource "users" in API group "" at the cluster scope'
    )
    with pytest.raises(ApiException) as groups_alone:
        whoami(still_cluster.api_client, **{"Impersonate-Group": "ops"})
    assert groups_alone.value.status == 400
