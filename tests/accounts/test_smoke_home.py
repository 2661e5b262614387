def test_home_for_visitor_is_japanese(client, db):
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<html lang="ja">' in text
    assert "ログイン" in text


def test_home_for_verified_clerk_names_company(clerk_client):
    response = clerk_client.get("/")
    assert "ACME建設株式会社" in response.content.decode()
