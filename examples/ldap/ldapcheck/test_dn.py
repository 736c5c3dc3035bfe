import ldap.dn


def test_dn_round_trip():
    dn = "cn=pyslim,dc=example,dc=org"
    assert ldap.dn.dn2str(ldap.dn.str2dn(dn)) == dn
