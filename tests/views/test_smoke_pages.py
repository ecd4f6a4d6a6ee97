"""Every public page renders for a visitor."""
import pytest


@pytest.mark.parametrize("path", ["/", "/achievements", "/demands", "/valleys", "/login", "/register",
                                  "/password/forgot", "/api/v1/openapi.json"])
def test_public_page_renders_for_visitor(client, path):
    response = client.get(path)
    assert response.status_code == 200


def test_published_achievement_is_found_by_chinese_search(client, make_achievement):
    achievement = make_achievement()
    response = client.get("/achievements?q=制氢工艺")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'href="/achievements/{achievement.id}"' in page
    assert "<mark>制氢</mark>" in page


def test_unrelated_query_finds_nothing(client, make_achievement):
    make_achievement()
    response = client.get("/achievements?q=中药材种植")
    assert "没有找到符合条件的成果" in response.get_data(as_text=True)
