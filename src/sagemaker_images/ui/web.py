"""The web catalog's HTTP side: routes under /ui/, who may look (HTTP Basic with an access
key of the credentials file when signatures are verified), the security headers, static
files, and the error pages.

Read-only by construction: only GET and HEAD are answered (anything else is 405), and the
only form on any page is a GET form that filters a list. A key with an IAM principal sees
what its policies let it Describe and List, as the API would answer it: a page that needs a
refused call says so (403), a list leaves out what the key may not describe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from sagemaker_images.auth.authorization import Authorizer, Gate
from sagemaker_images.auth.credentials import AccessKey, KeyRing
from sagemaker_images.auth.policies import Principal
from sagemaker_images.catalog.browse import Browse, attachments_of
from sagemaker_images.context import RequestContext
from sagemaker_images.doctor.preflight import Preflight, Request
from sagemaker_images.errors import (
    AccessDenied,
    ResourceNotFound,
    ServiceError,
    ServiceUnavailable,
)
from sagemaker_images.protocol import model
from sagemaker_images.protocol.asgi import Scope, Send, header
from sagemaker_images.protocol.validate import Validator, compile_input
from sagemaker_images.ui import layout, pages
from sagemaker_images.ui.html import Markup
from sagemaker_images.ui.layout import Listing, Where

log = logging.getLogger(__name__)

PREFIX = "/ui/"
HTML = b"text/html; charset=utf-8"
# No inline script or style at all: scripts and styles come from /ui/static/ only.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        b" form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_STATIC_TYPES = {
    ".css": b"text/css; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".svg": b"image/svg+xml",
}
_REGION = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
_REALM = b'Basic realm="sagemaker-images", charset="UTF-8"'


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = HTML
    extra: tuple[tuple[bytes, bytes], ...] = ()


def _static_files() -> dict[str, tuple[bytes, bytes, bytes]]:
    """name -> (content, content type, ETag), read once from the package."""
    found = {}
    folder = resources.files("sagemaker_images.ui") / "static"
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if suffix in _STATIC_TYPES:
            content = entry.read_bytes()
            etag = b'"' + hashlib.sha256(content).hexdigest()[:16].encode() + b'"'
            found[entry.name] = (content, _STATIC_TYPES[suffix], etag)
    return found


class WebCatalog:
    """Serves /ui/ for one server. `keys`: the credentials file's keys when signatures are
    verified (the UI then asks for one of them), else None and the configured account."""

    def __init__(
        self,
        browse: Browse,
        account: str,
        default_region: str,
        keys: KeyRing | None,
        preflight: Preflight | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._browse = browse
        self._authorizer = authorizer
        self._preflight = preflight
        self._account = account
        self._default_region = default_region
        self._keys = keys
        self._static = _static_files()
        # The pages' inputs are checked as the API's would be (ValidationException: a 400).
        self._validators: dict[str, Validator] = {
            name: compile_input(model.operation(name).input_shape)
            for name in (
                "ListImages",
                "DescribeImageVersion",
                "ListAppImageConfigs",
                "DescribeAppImageConfig",
                "DescribeDomain",
            )
        }

    async def serve(self, scope: Scope, send: Send, request_id: str) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            answer = Answer(
                405,
                b"Method Not Allowed: the web catalog is read-only.\n",
                b"text/plain; charset=utf-8",
                ((b"allow", b"GET, HEAD"),),
            )
        else:
            answer = await self._answer(scope, request_id)
        await _send(send, answer, request_id, head=method == "HEAD")

    async def _answer(self, scope: Scope, request_id: str) -> Answer:
        route = scope["path"][len(PREFIX) :]
        if route.startswith("static/"):
            return self._static_file(route[len("static/") :], scope)
        account = self._account
        principal: Principal | None = None
        if self._keys is not None:
            signed_in = self._signed_in(header(scope, b"authorization"))
            if signed_in is None:
                return Answer(
                    401,
                    b"Sign in with an access key id and its secret access key.\n",
                    b"text/plain; charset=utf-8",
                    ((b"www-authenticate", _REALM),),
                )
            account, principal = signed_in.account_id, signed_in.principal
        raw_query = scope.get("query_string", b"").decode("utf-8", "replace")
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        regions = await self._regions(account)
        region = query.get("region") or self._first_region(regions)
        where = Where(account, region, regions)
        if not _REGION.fullmatch(region):
            where = Where(account, self._default_region, regions)
            return _page(400, layout.problem(where, "Bad request", "That is not a region."))
        ctx = RequestContext(account, region, request_id)
        look = _Look(self._authorizer, principal, ctx, scope)
        try:
            return _page(200, await self._route(ctx, where, route.split("/"), query, look))
        except AccessDenied as error:
            return _page(403, layout.problem(where, "Not allowed", error.message))
        except ResourceNotFound as error:
            return _page(404, layout.problem(where, "Not found", error.message))
        except ServiceUnavailable as error:
            return _page(503, layout.problem(where, "Unavailable", error.message))
        except ServiceError as error:
            form, section = _list_form(where, route, query)
            page = layout.problem(where, "Bad request", error.message, form, section)
            return _page(400, page)
        except Exception:
            log.exception("web catalog: %s failed (request %s)", scope["path"], request_id)
            title = "Something went wrong"
            message = f"The page could not be made (request {request_id}); the log says why."
            return _page(500, layout.problem(where, title, message))

    async def _regions(self, account: str) -> list[str]:
        try:
            return await self._browse.regions(account)
        except Exception:  # the page says what failed; the switch can do without
            return []

    def _first_region(self, regions: list[str]) -> str:
        """The configured region, unless only other regions hold data."""
        if not regions or self._default_region in regions:
            return self._default_region
        return regions[0]

    async def _route(
        self,
        ctx: RequestContext,
        where: Where,
        parts: list[str],
        query: dict[str, str],
        look: _Look,
    ) -> Markup:
        match parts:
            case [""] | ["images"] | ["images", ""]:
                listing, request = self._list_call("ListImages", layout.IMAGE_SORTS, query)
                await look.may("ListImages", request)
                rows, token = await self._browse.images(ctx, request)
                rows = [
                    row
                    for row in rows
                    if await look.can("DescribeImage", {"ImageName": row.summary["ImageName"]})
                ]
                return pages.images_page(where, listing, rows, token)
            case ["images", name]:
                self._valid("DescribeImageVersion", {"ImageName": name})
                await look.may("DescribeImage", {"ImageName": name})
                token = query.get("next")
                image, tags, versions, next_token = await self._browse.image(ctx, name, token)
                uses = await self._uses(ctx, image_name=name)
                apps = await self._browse.apps(ctx, image=name)
                return pages.image_page(where, image, tags, versions, next_token, token, uses, apps)
            case ["images", name, "versions", number] if number.isdigit() and len(number) < 10:
                named = {"ImageName": name, "Version": int(number)}
                await look.may("DescribeImageVersion", self._valid("DescribeImageVersion", named))
                image_name, row = await self._browse.version(ctx, name, int(number))
                paired = await self._paired(ctx, name)
                checkable = self._preflight is not None
                return pages.version_page(where, image_name, row, paired if checkable else None)
            case ["images", name, "versions", number, "preflight"] if (
                number.isdigit() and len(number) < 10 and self._preflight is not None
            ):
                named = {"ImageName": name, "Version": int(number)}
                await look.may("DescribeImageVersion", self._valid("DescribeImageVersion", named))
                paired_config = query.get("config") or None
                if paired_config is not None:
                    pairing = {"AppImageConfigName": paired_config}
                    self._valid("DescribeAppImageConfig", pairing)
                    await look.may("DescribeAppImageConfig", pairing)
                image_name, row = await self._browse.version(ctx, name, int(number))
                asked = Request(ctx.account, ctx.region, name, int(number), None, paired_config)
                report = await self._preflight.report(self._browse.reads, asked)
                return pages.preflight_page(where, image_name, row, paired_config, report)
            case ["app-image-configs"] | ["app-image-configs", ""]:
                listing, request = self._list_call(
                    "ListAppImageConfigs", layout.CONFIG_SORTS, query
                )
                await look.may("ListAppImageConfigs", request)
                configs, token = await self._browse.app_image_configs(ctx, request)
                configs = [
                    config
                    for config in configs
                    if await look.can(
                        "DescribeAppImageConfig",
                        {"AppImageConfigName": config["AppImageConfigName"]},
                    )
                ]
                return pages.configs_page(where, listing, configs, token)
            case ["app-image-configs", name]:
                self._valid("DescribeAppImageConfig", {"AppImageConfigName": name})
                await look.may("DescribeAppImageConfig", {"AppImageConfigName": name})
                config, tags = await self._browse.app_image_config(ctx, name)
                uses = await self._uses(ctx, config_name=name)
                return pages.config_page(where, config, tags, uses)
            case ["domains"] | ["domains", ""]:
                await look.may("ListDomains", {})
                domains = [
                    domain
                    for domain in await self._browse.studio(ctx)
                    if await look.can("DescribeDomain", {"DomainId": domain.details["DomainId"]})
                ]
                return pages.domains_page(where, domains)
            case ["domains", domain_id]:
                self._valid("DescribeDomain", {"DomainId": domain_id})
                await look.may("DescribeDomain", {"DomainId": domain_id})
                for domain in await self._browse.studio(ctx):
                    if domain.details["DomainId"] == domain_id:
                        return pages.domain_page(where, domain)
                raise ResourceNotFound(f"Domain {domain_id} does not exist.")
        raise ResourceNotFound("There is no page at this address.")

    def _valid(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return self._validators[operation](request)

    def _list_call(
        self, operation: str, sorts: dict[str, str], query: dict[str, str]
    ) -> tuple[Listing, dict[str, Any]]:
        """What a list page asks for, and the List call's request for it, validated
        (ListImages spells its orders in capitals, ListAppImageConfigs does not)."""
        listing = _listing(query)
        order = layout.ORDERS[listing.order]
        request: dict[str, Any] = {
            "SortBy": sorts[listing.sort],
            "SortOrder": order.upper() if operation == "ListImages" else order,
        }
        if listing.contains:
            request["NameContains"] = listing.contains
        if listing.token:
            request["NextToken"] = listing.token
        return listing, self._valid(operation, request)

    async def _paired(self, ctx: RequestContext, image_name: str) -> list[str]:
        """The AppImageConfigs attached with an image somewhere in Studio's settings: what
        its preflight is worth running with."""
        uses = await self._uses(ctx, image_name=image_name)
        return sorted({use.app_image_config_name for use in uses}, key=str.lower)

    async def _uses(
        self, ctx: RequestContext, *, image_name: str = "", config_name: str = ""
    ) -> list[Any]:
        """The Studio attachments naming an image or an AppImageConfig (names compare
        ignoring case, as the catalog finds them)."""
        found = attachments_of(await self._browse.studio(ctx))
        if image_name:
            return [a for a in found if a.image_name.lower() == image_name.lower()]
        return [a for a in found if a.app_image_config_name.lower() == config_name.lower()]

    def _signed_in(self, authorization: str | None) -> AccessKey | None:
        """The key of a valid `Basic base64(access key id:secret)`, else None."""
        assert self._keys is not None
        if not authorization or not authorization.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
            return None
        key_id, _, secret = decoded.partition(":")
        key = self._keys.get(key_id)
        if key is None or not hmac.compare_digest(secret.encode(), key.secret_access_key.encode()):
            return None
        return key

    def _static_file(self, name: str, scope: Scope) -> Answer:
        found = self._static.get(name)
        if found is None:
            return Answer(404, b"Not found\n", b"text/plain; charset=utf-8")
        content, content_type, etag = found
        cache = ((b"etag", etag), (b"cache-control", b"public, max-age=3600"))
        if header(scope, b"if-none-match") == etag.decode():
            return Answer(304, b"", content_type, cache)
        return Answer(200, content, content_type, cache)


class _Look:
    """What a signed-in key's policies let one page ask for (anything, for the account's
    root user or with signatures off): the API's own check of each call."""

    def __init__(
        self,
        authorizer: Authorizer | None,
        principal: Principal | None,
        ctx: RequestContext,
        scope: Scope,
    ) -> None:
        self._gate = (
            None
            if authorizer is None or principal is None
            else Gate(authorizer, principal, ctx, scope)
        )

    async def can(self, operation: str, request: dict[str, Any]) -> bool:
        try:
            await self.may(operation, request)
        except AccessDenied:
            return False
        return True

    async def may(self, operation: str, request: dict[str, Any]) -> None:
        """Raises AccessDenied, in AWS's words, unless the key may make this call."""
        if self._gate is not None:
            await self._gate(operation, request)


def _listing(query: dict[str, str]) -> Listing:
    sort = query.get("sort", "created")
    order = query.get("order", "desc")
    return Listing(
        contains=query.get("q", "").strip(),
        sort=sort if sort in layout.SORT_LABELS else "created",
        order=order if order in layout.ORDERS else "desc",
        token=query.get("next") or None,
    )


def _list_form(where: Where, route: str, query: dict[str, str]) -> tuple[Markup | None, str]:
    """The form of the list page a route names, as it was filled in, and its section
    (None and no section for other pages)."""
    section = route.strip("/")
    if section in ("", "images"):
        return layout.list_form(where, _listing(query), "Image"), "Images"
    if section == "app-image-configs":
        form = layout.list_form(where, _listing(query), "AppImageConfig", "app-image-configs")
        return form, "AppImageConfigs"
    return None, ""


def _page(status: int, markup: Markup) -> Answer:
    return Answer(status, markup.encode())


async def _send(send: Send, answer: Answer, request_id: str, *, head: bool) -> None:
    headers = [
        (b"content-type", answer.content_type),
        (b"content-length", str(len(answer.body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
        *SECURITY_HEADERS,
        *answer.extra,
    ]
    if answer.content_type == HTML:
        headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})
