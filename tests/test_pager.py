from django.core.paginator import Paginator
from django.template.loader import render_to_string


def test_the_pager_keeps_the_filters_and_says_where_you_are():
    page = Paginator(range(120), 50).page(2)
    html = render_to_string(
        "includes/pager.html", {"page": page, "query": "health=failing", "counted": True}
    )
    assert "51\u2013100 of 120" in html
    assert "Page 2 of 3" in html
    assert 'href="?health=failing&amp;page=1"' in html
    assert 'href="?health=failing&amp;page=3"' in html


def test_one_page_needs_no_pager():
    page = Paginator(range(10), 50).page(1)
    assert render_to_string("includes/pager.html", {"page": page}).strip() == ""
