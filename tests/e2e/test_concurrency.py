"""Many clients at once: distinct, gap-free version numbers; one winner per name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError
from support import create_image, race, race_to_create_image, wait_until

CLIENTS = 16
CALLS_EACH = 10


def test_concurrent_version_creation(server, region, sm):
    create_image(sm, "racy")
    clients = [server.client(region) for _ in range(CLIENTS)]

    def create_many(client):
        return [
            int(
                client.create_image_version(ImageName="racy", BaseImage="r/x:1")[
                    "ImageVersionArn"
                ].rsplit("/", 1)[1]
            )
            for _ in range(CALLS_EACH)
        ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        numbers = [n for batch in pool.map(create_many, clients) for n in batch]
    total = CLIENTS * CALLS_EACH
    assert sorted(numbers) == list(range(1, total + 1))

    def all_created():
        listed = [
            v
            for page in sm.get_paginator("list_image_versions").paginate(ImageName="racy")
            for v in page["ImageVersions"]
        ]
        return len(listed) == total and all(v["ImageVersionStatus"] == "CREATED" for v in listed)

    wait_until(all_created)


def test_concurrent_creates_with_one_client_token_make_one_version(server, region, sm):
    create_image(sm, "idempotent")
    clients = [server.client(region) for _ in range(8)]
    arns = race(
        clients,
        lambda c: c.create_image_version(
            ImageName="idempotent", BaseImage="r/x:1", ClientToken="one-token-for-all"
        )["ImageVersionArn"],
    )
    assert len(set(arns)) == 1 and arns[0].endswith("/idempotent/1")
    listed = sm.list_image_versions(ImageName="idempotent")["ImageVersions"]
    assert [v["Version"] for v in listed] == [1]


def test_concurrent_creates_with_one_alias_have_one_winner(server, region, sm):
    create_image(sm, "aliased")
    clients = [server.client(region) for _ in range(8)]
    outcomes = race(
        clients,
        lambda c: c.create_image_version(
            ImageName="aliased", BaseImage="r/x:1", Aliases=["latest"]
        )["ImageVersionArn"],
    )
    won = [o for o in outcomes if o.startswith("arn:")]
    assert len(won) == 1
    assert outcomes.count("ValidationException") == len(clients) - 1
    number = int(won[0].rsplit("/", 1)[1])
    assert sm.list_aliases(ImageName="aliased")["SageMakerImageVersionAliases"] == ["latest"]
    assert sm.describe_image_version(ImageName="aliased", Alias="latest")["Version"] == number
    # The losers consumed no number: the winner's is the only version.
    listed = sm.list_image_versions(ImageName="aliased")["ImageVersions"]
    assert [v["Version"] for v in listed] == [number]


def test_concurrent_creates_of_one_name(server, region):
    clients = [server.client(region) for _ in range(8)]
    outcomes = race_to_create_image(clients, "contested")
    assert outcomes.count("created") == 1
    assert outcomes.count("ResourceInUse") == len(clients) - 1


def test_concurrent_deletes_of_one_version_have_one_winner(make_server, region):
    """The second delete must see the first one's DELETING, however close behind it is."""
    server = make_server("--transitions", "3")
    sm = server.client(region)
    create_image(sm, "doomed")
    versions = [
        int(
            sm.create_image_version(ImageName="doomed", BaseImage="r/x:1")[
                "ImageVersionArn"
            ].rsplit("/", 1)[1]
        )
        for _ in range(8)
    ]
    wait_until(
        lambda: all(
            v["ImageVersionStatus"] == "CREATED"
            for v in sm.list_image_versions(ImageName="doomed", MaxResults=100)["ImageVersions"]
        ),
        timeout=30,
    )
    clients = [server.client(region) for _ in range(2 * len(versions))]

    def delete(args):
        client, number = args
        try:
            client.delete_image_version(ImageName="doomed", Version=number)
            return number, "deleted"
        except ClientError as error:
            return number, error.response["Error"]["Code"]

    work = [(client, versions[i // 2]) for i, client in enumerate(clients)]
    with ThreadPoolExecutor(len(work)) as pool:
        outcomes = list(pool.map(delete, work))
    for number in versions:
        mine = sorted(outcome for n, outcome in outcomes if n == number)
        assert mine == ["ResourceInUse", "deleted"], (number, mine)
