"""Listing knobs: page_size_cap, total_count and each listing_fault, on listings and search."""

from __future__ import annotations

import pytest

from .helpers import assert_ok, ids, sids

SEARCH = {"AccountSid": "ACDEMO0001"}


def _true_order(api) -> list[str]:
    return sids(api.listing(PageSize=1000))


def test_page_size_cap(api, sandbox):
    order = _true_order(api)
    sandbox.knobs.page_size_cap = 7
    body = assert_ok(api.listing())  # asks for the default 10
    assert [b["NumberBlockSid"] for b in body["NumberBlocks"]] == order[:7]
    assert body["TotalCount"] == 100
    assert sids(api.listing(PageIndex=1, PageSize=50)) == order[7:14]  # pages of the cap
    assert sids(api.listing(PageSize=3)) == order[:3]  # a smaller ask is honoured
    pages = [sids(api.listing(PageIndex=i, PageSize=200)) for i in range(15)]
    assert [s for page in pages for s in page] == order  # a client that follows the cap
    assert len(sids(api.search("Mobile", **SEARCH, PageSize=100))) == 7


def test_total_count_off(api, sandbox):
    sandbox.knobs.total_count = False
    body = assert_ok(api.listing(IncludeTotalCount="true"))
    assert "TotalCount" not in body and len(body["NumberBlocks"]) == 10
    assert "TotalCount" not in assert_ok(api.search("Mobile", **SEARCH))
    sandbox.knobs.total_count = True
    assert assert_ok(api.listing())["TotalCount"] == 100


@pytest.mark.parametrize("search", [False, True])
def test_html_fault(api, sandbox, search):
    sandbox.knobs.listing_fault = "html"
    response = api.search("Mobile", **SEARCH) if search else api.listing()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("search", [False, True])
def test_no_list_fault(api, sandbox, search):
    sandbox.knobs.listing_fault = "no_list"
    response = api.search("Mobile", **SEARCH) if search else api.listing()
    body = assert_ok(response)  # well-formed JSON with the OK envelope...
    assert "NumberBlocks" not in body and body["TotalCount"] > 0  # ...but no list


def test_bad_item_fault(api, sandbox):
    sandbox.knobs.listing_fault = "bad_item"
    for index in range(3):
        items = assert_ok(api.listing(PageIndex=index, PageSize=9))["NumberBlocks"]
        missing = [i for i, b in enumerate(items) if "NumberBlockSid" not in b]
        assert missing == [4]  # the middle one, on every page
        assert all(isinstance(b["Id"], int) for b in items)
    found = assert_ok(api.search("Mobile", **SEARCH))["NumberBlocks"]
    assert sum("NumberBlockSid" not in b for b in found) == 1


def test_shift_fault(api, sandbox):
    order = _true_order(api)
    sandbox.knobs.listing_fault = "shift"
    assert sids(api.listing(PageIndex=0)) == order[:10]  # the first page is right
    assert sids(api.listing(PageIndex=1)) == order[9:19]  # one early: order[9] again
    assert sids(api.listing(PageIndex=2)) == order[21:31]  # one late: order[20] skipped
    assert sids(api.listing(PageIndex=3)) == order[29:39]
    served = [i for p in range(10) for i in ids(api.listing(PageIndex=p))]
    assert len(served) == 100 and len(set(served)) < 100  # adds up, yet is not the listing
    assert assert_ok(api.listing(PageIndex=1))["TotalCount"] == 100
    everything = sids(api.search("Mobile", **SEARCH, PageSize=1000))
    assert sids(api.search("Mobile", **SEARCH, PageIndex=1, PageSize=5)) == everything[4:9]


def test_faults_switch_off(api, sandbox):
    order = _true_order(api)
    for fault in ("html", "no_list", "bad_item", "shift"):
        sandbox.knobs.listing_fault = fault
        api.listing(PageIndex=1)
    sandbox.knobs.listing_fault = None
    assert sids(api.listing(PageIndex=1)) == order[10:20]
