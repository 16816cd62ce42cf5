from tests.factories import login


def test_signed_in_admin_sees_their_district_home(client, make_tenant, make_user):
    tenant = make_tenant("boston", "Boston Public Schools")
    admin = make_user(tenant, "program_admin")
    login(client, tenant, admin)
    response = client.get("/t/boston/")
    assert response.status_code == 200
    assert "Boston Public Schools" in response.text
