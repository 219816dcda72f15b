"""Lists: every sort order, pages that never skip or repeat, filters, tokens."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from support import ROLE, create_image, error_of, image_status, raw_call, wait_until

IMAGE_COUNT = 23
VERSION_COUNT = 27


def collect(sm, operation, key, page_size, **request):
    items = []
    pages = 0
    for page in sm.get_paginator(operation).paginate(
        PaginationConfig={"PageSize": page_size}, **request
    ):
        assert len(page[key]) <= page_size
        items.extend(page[key])
        pages += 1
    return items, pages


@pytest.fixture
def images(sm):
    # Names that sort differently from their creation order, some created in the same ms.
    names = [f"img-{(i * 7) % IMAGE_COUNT:02d}" for i in range(IMAGE_COUNT)]
    for name in names:
        sm.create_image(ImageName=name, RoleArn=ROLE)
    wait_until(lambda: all(image_status(sm, n) == "CREATED" for n in names))
    return names


@pytest.mark.parametrize("order", ["ASCENDING", "DESCENDING"])
@pytest.mark.parametrize("sort_by", ["CREATION_TIME", "LAST_MODIFIED_TIME", "IMAGE_NAME"])
def test_list_images_pages(sm, images, sort_by, order):
    items, pages = collect(sm, "list_images", "Images", 4, SortBy=sort_by, SortOrder=order)
    assert pages == 6
    assert sorted(i["ImageName"] for i in items) == sorted(images)
    field = {
        "CREATION_TIME": "CreationTime",
        "LAST_MODIFIED_TIME": "LastModifiedTime",
        "IMAGE_NAME": "ImageName",
    }[sort_by]
    keys = [(i[field], i["ImageName"]) for i in items]
    assert keys == sorted(keys, reverse=order == "DESCENDING")


def test_list_images_defaults(sm, images):
    page = sm.list_images()
    assert len(page["Images"]) == 10
    assert "NextToken" in page
    created = [i["CreationTime"] for i in page["Images"]]
    assert created == sorted(created, reverse=True)
    assert page["Images"][0]["ImageName"] == images[-1]
    assert set(page["Images"][0]) == {
        "CreationTime",
        "ImageArn",
        "ImageName",
        "ImageStatus",
        "LastModifiedTime",
    }
    last = sm.list_images(MaxResults=100)
    assert len(last["Images"]) == IMAGE_COUNT and "NextToken" not in last


def test_name_contains_is_case_insensitive(sm, images):
    sm.create_image(ImageName="IMG-Upper", RoleArn=ROLE)
    found = [i["ImageName"] for i in sm.list_images(NameContains="G-uP", MaxResults=100)["Images"]]
    assert found == ["IMG-Upper"]
    found = [i["ImageName"] for i in sm.list_images(NameContains="img-1", MaxResults=100)["Images"]]
    assert sorted(found) == sorted(n for n in images if n.startswith("img-1"))


def raw_list(server, region, target, **request):
    """botocore sends filter times in whole seconds; raw calls carry exact milliseconds."""
    status, _, body = raw_call(server, f"SageMaker.{target}", request, region=region)
    assert status == 200, body
    return body


def test_time_filters_are_inclusive(server, region, images):
    everything = raw_list(server, region, "ListImages", MaxResults=100)["Images"]
    pivot = everything[5]["CreationTime"]
    after = raw_list(server, region, "ListImages", MaxResults=100, CreationTimeAfter=pivot)
    before = raw_list(server, region, "ListImages", MaxResults=100, CreationTimeBefore=pivot)
    assert all(i["CreationTime"] >= pivot for i in after["Images"])
    assert all(i["CreationTime"] <= pivot for i in before["Images"])
    at_pivot = [i["ImageName"] for i in everything if i["CreationTime"] == pivot]
    assert set(at_pivot) <= {i["ImageName"] for i in after["Images"]}
    assert set(at_pivot) <= {i["ImageName"] for i in before["Images"]}
    assert len(after["Images"]) + len(before["Images"]) == IMAGE_COUNT + len(at_pivot)
    newest = max(i["LastModifiedTime"] for i in everything)
    latest = raw_list(server, region, "ListImages", LastModifiedTimeAfter=newest)["Images"]
    assert latest and all(i["LastModifiedTime"] == newest for i in latest)
    assert raw_list(server, region, "ListImages", LastModifiedTimeBefore=1e9)["Images"] == []


def test_time_filters_through_botocore(sm, images):
    everything = sm.list_images(MaxResults=100)["Images"]
    oldest = min(i["CreationTime"] for i in everything)
    assert len(sm.list_images(MaxResults=100, CreationTimeAfter=oldest)["Images"]) == IMAGE_COUNT
    assert sm.list_images(CreationTimeBefore=oldest - timedelta(days=1))["Images"] == []


def test_filters_and_paging_combine(sm, images):
    items, _ = collect(
        sm,
        "list_images",
        "Images",
        2,
        NameContains="img-0",
        SortBy="IMAGE_NAME",
        SortOrder="ASCENDING",
    )
    assert [i["ImageName"] for i in items] == sorted(n for n in images if n.startswith("img-0"))


def test_token_is_bound_to_its_query(sm, images):
    token = sm.list_images(MaxResults=3, SortBy="IMAGE_NAME")["NextToken"]
    assert sm.list_images(MaxResults=5, SortBy="IMAGE_NAME", NextToken=token)["Images"]
    for other in ({"SortBy": "CREATION_TIME"}, {"SortBy": "IMAGE_NAME", "NameContains": "img"}):
        with pytest.raises(ClientError) as excinfo:
            sm.list_images(NextToken=token, **other)
        assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)
    with pytest.raises(ClientError) as excinfo:
        sm.list_image_versions(ImageName=images[0], NextToken=token)
    assert error_of(excinfo)[1] == "Invalid pagination token"


@pytest.mark.parametrize("token", ["garbage", "eyJ4IjoxfQ", "W10", "W1siYSJdXQ", "%%%"])
def test_garbled_tokens(sm, token):
    with pytest.raises(ClientError) as excinfo:
        sm.list_images(NextToken=token)
    assert error_of(excinfo) == ("ValidationException", "Invalid pagination token", 400)


@pytest.fixture
def versions(sm):
    create_image(sm, "paged")
    for _ in range(VERSION_COUNT):
        sm.create_image_version(ImageName="paged", BaseImage="r/x:1")
    # Touch some versions so last-modified order differs from creation order.
    wait_until(
        lambda: all(
            v["ImageVersionStatus"] == "CREATED"
            for v in sm.list_image_versions(ImageName="paged", MaxResults=100)["ImageVersions"]
        )
    )
    for number in (3, 11, 7):
        time.sleep(0.002)
        sm.update_image_version(ImageName="paged", Version=number, ReleaseNotes="touched")
    return "paged"


@pytest.mark.parametrize("order", ["ASCENDING", "DESCENDING"])
@pytest.mark.parametrize("sort_by", ["CREATION_TIME", "LAST_MODIFIED_TIME", "VERSION"])
def test_list_image_versions_pages(sm, versions, sort_by, order):
    items, pages = collect(
        sm,
        "list_image_versions",
        "ImageVersions",
        5,
        ImageName=versions,
        SortBy=sort_by,
        SortOrder=order,
    )
    assert pages == 6
    assert sorted(v["Version"] for v in items) == list(range(1, VERSION_COUNT + 1))
    field = {
        "CREATION_TIME": "CreationTime",
        "LAST_MODIFIED_TIME": "LastModifiedTime",
        "VERSION": "Version",
    }[sort_by]
    keys = [(v[field], v["Version"]) for v in items]
    assert keys == sorted(keys, reverse=order == "DESCENDING")
    if sort_by == "LAST_MODIFIED_TIME" and order == "DESCENDING":
        assert [v["Version"] for v in items[:3]] == [7, 11, 3]


def test_list_image_versions_defaults_and_filters(sm, versions):
    page = sm.list_image_versions(ImageName=versions)
    assert [v["Version"] for v in page["ImageVersions"]] == list(
        range(VERSION_COUNT, VERSION_COUNT - 10, -1)
    )
    assert set(page["ImageVersions"][0]) == {
        "CreationTime",
        "ImageArn",
        "ImageVersionArn",
        "ImageVersionStatus",
        "LastModifiedTime",
        "Version",
    }


def test_list_image_versions_time_filters(server, region, versions):
    touched = raw_call(
        server,
        "SageMaker.DescribeImageVersion",
        {"ImageName": versions, "Version": 11},
        region=region,
    )[2]["LastModifiedTime"]
    recent = raw_list(
        server,
        region,
        "ListImageVersions",
        ImageName=versions,
        LastModifiedTimeAfter=touched,
        MaxResults=100,
    )
    assert sorted(v["Version"] for v in recent["ImageVersions"]) == [7, 11]
