"""Refusals are Chinese pages that say why (403) or reveal nothing (404: missing or outside the area alike)."""

import pytest
from django.urls import reverse

import sample_data as sample

pytestmark = pytest.mark.django_db


def test_403_names_the_reason_and_404_reveals_nothing(client):
    data = sample.build()
    client.force_login(sample.make_user("tongji", area=data.yl, role="statistician"))
    response = client.get(reverse("household_list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问（403）" in page and "统计员" in page  # the refusal's own message
    client.force_login(sample.make_user("yanling", area=data.yl, role="county_admin"))
    outside = client.get(reverse("household_detail", args=[data.h4.pk])).content.decode()  # 茶陵: exists
    missing = client.get(reverse("household_detail", args=[999999])).content.decode()
    def main(page):
        return page[page.index("<main"):page.index("</main>")]

    assert "未找到（404）" in outside and main(outside) == main(missing)
    # the header names the user's jurisdiction on error pages too
    assert "管辖区域：<strong>炎陵县（430225）</strong>" in outside
    client.force_login(sample.make_user("tongji2", area=data.yl, role="statistician"))
    assert "管辖区域：<strong>炎陵县（430225）</strong>" in client.get(reverse("household_list")).content.decode()


def test_a_server_error_page_is_chinese_and_needs_no_context():
    """Django renders 500.html without a request context (the failure may be in the context itself): a page
    standing alone, Chinese first, that says nothing was saved and where the error went."""
    from django.test import Client
    from django.urls import path

    from xiaokang import urls

    def boom(request):
        raise RuntimeError("测试用的服务器错误")

    urls.urlpatterns.append(path("boom-for-test/", boom))
    try:
        response = Client(raise_request_exception=False).get("/boom-for-test/")
    finally:
        urls.urlpatterns.pop()
        from django.urls import clear_url_caches

        clear_url_caches()
    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="zh-Hans">' in page and "<h1>服务器错误（500）</h1>" in page and "没有保存任何内容" in page
